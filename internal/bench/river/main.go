// Command riverbench measures River's queue overhead on SQLite in the shape
// Outlet would use it: 32 concurrent publishers each committing one ~1 KB job
// per transaction, plus a River client with a no-op worker draining the queue.
//
// It lives in its own Go module so that the main Outlet module never depends
// on River. See README.md for the command and the recorded results.
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	_ "modernc.org/sqlite" // registers the pure-Go "sqlite" database/sql driver
)

// eventArgs is the job one published event would become: an id, a topic and
// the event's ~1 KB JSON payload.
type eventArgs struct {
	EventID string          `json:"event_id"`
	Topic   string          `json:"topic"`
	Payload json.RawMessage `json:"payload"`
}

func (eventArgs) Kind() string { return "outlet_event" }

// noopWorker does nothing beyond what River itself does (decode the args).
type noopWorker struct {
	river.WorkerDefaults[eventArgs]
	firstWork atomic.Int64 // unix nanos of the first Work call, a proxy for the first fetch
}

func (w *noopWorker) Work(context.Context, *river.Job[eventArgs]) error {
	w.firstWork.CompareAndSwap(0, time.Now().UnixNano())
	return nil
}

type fetchSetting struct {
	cooldown time.Duration
	poll     time.Duration
}

func (f fetchSetting) String() string { return f.cooldown.String() + "/" + f.poll.String() }

type options struct {
	n          int
	publishers int
	payload    int
	batch      int
	workers    int
	runs       int
	timeout    time.Duration
	dir        string
	syncModes  []string
	pools      []int
	fetches    []fetchSetting
	phases     []string
	verbose    bool
	cpuprofile string
	quietLimit float64
	quietWait  time.Duration
	retries    int
}

type result struct {
	sync    string
	pool    int
	phase   string
	fetch   string
	run     int
	jobs    int64
	elapsed time.Duration
	p50     time.Duration
	p99     time.Duration
	errs    int64
	cpu     cpuSample // CPU time over the measured window
	unquiet bool      // the machine never went quiet before the measurement
	note    string
}

func (r result) rate() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.jobs) / r.elapsed.Seconds()
}

// cores is the average number of CPU cores the process kept busy.
func (r result) cores() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return r.cpu.own.Seconds() / r.elapsed.Seconds()
}

// otherCores is the average number of cores kept busy by everything else on
// the machine (other processes, the kernel, hypervisor steal). Anything well
// above zero means the measurement was disturbed.
func (r result) otherCores() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return max(0, (r.cpu.machine-r.cpu.own).Seconds()/r.elapsed.Seconds())
}

// noisy reports whether other processes disturbed the measurement.
func (r result) noisy() bool { return r.unquiet || r.otherCores() > 0.25 }

// cpuPerJob is the process CPU time spent per job.
func (r result) cpuPerJob() time.Duration {
	if r.jobs == 0 {
		return 0
	}
	return r.cpu.own / time.Duration(r.jobs)
}

func main() {
	opts, err := parseFlags()
	if err != nil {
		fmt.Fprintln(os.Stderr, "riverbench:", err)
		os.Exit(2)
	}
	if err := run(opts); err != nil {
		fmt.Fprintln(os.Stderr, "riverbench:", err)
		os.Exit(1)
	}
}

func parseFlags() (*options, error) {
	var (
		o                                 options
		syncModes, pools, fetches, phases string
	)
	flag.IntVar(&o.n, "n", 20000, "jobs per measurement")
	flag.IntVar(&o.publishers, "publishers", 32, "concurrent publishing goroutines")
	flag.IntVar(&o.payload, "payload", 1024, "approximate job args size in bytes")
	flag.IntVar(&o.batch, "batch", 100, "batch size for the insertmany phase")
	flag.IntVar(&o.workers, "workers", 100, "River MaxWorkers for the default queue")
	flag.IntVar(&o.runs, "runs", 2, "repetitions of every configuration")
	flag.DurationVar(&o.timeout, "timeout", 60*time.Second, "hard time limit of every measured phase")
	flag.StringVar(&o.dir, "dir", "", "directory for the temporary database files (default: os.TempDir())")
	flag.StringVar(&syncModes, "sync", "FULL,NORMAL", "comma-separated PRAGMA synchronous values")
	flag.StringVar(&pools, "pool", "1", "comma-separated database/sql MaxOpenConns values (River recommends 1); >1 uses BEGIN IMMEDIATE")
	flag.StringVar(&fetches, "fetch", "1ms/10ms,10ms/50ms,50ms/200ms", "comma-separated FetchCooldown/FetchPollInterval pairs")
	flag.StringVar(&phases, "phases", "raw,insert,insertmany,work,combined", "comma-separated phases to run")
	flag.BoolVar(&o.verbose, "v", false, "log River warnings to stderr")
	flag.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile of the whole run to this file")
	flag.Float64Var(&o.quietLimit, "quiet", 0.15, "before each measurement wait until other processes use fewer than this many cores (0 disables)")
	flag.IntVar(&o.retries, "retries", 3, "how often to measure again when a measurement was disturbed by other processes")
	flag.DurationVar(&o.quietWait, "quietwait", 5*time.Minute, "longest wait for a quiet machine before measuring anyway (marked NOISY)")
	flag.Parse()

	if o.n < 1 || o.publishers < 1 || o.batch < 1 || o.workers < 1 || o.runs < 1 || o.payload < 64 {
		return nil, errors.New("-n, -publishers, -batch, -workers, -runs must be positive and -payload at least 64")
	}
	if o.n > 1_000_000 {
		return nil, errors.New("-n is capped at 1,000,000")
	}
	if o.dir == "" {
		o.dir = os.TempDir()
	}
	for _, s := range splitList(syncModes) {
		s = strings.ToUpper(s)
		if s != "FULL" && s != "NORMAL" && s != "OFF" && s != "EXTRA" {
			return nil, fmt.Errorf("bad -sync value %q", s)
		}
		o.syncModes = append(o.syncModes, s)
	}
	for _, s := range splitList(pools) {
		p, err := strconv.Atoi(s)
		if err != nil || p < 1 {
			return nil, fmt.Errorf("bad -pool value %q", s)
		}
		o.pools = append(o.pools, p)
	}
	for _, s := range splitList(fetches) {
		cd, pi, ok := strings.Cut(s, "/")
		if !ok {
			return nil, fmt.Errorf("bad -fetch value %q, want COOLDOWN/POLL", s)
		}
		c, err1 := time.ParseDuration(cd)
		p, err2 := time.ParseDuration(pi)
		if err1 != nil || err2 != nil || c < river.FetchCooldownMin || p < c {
			return nil, fmt.Errorf("bad -fetch value %q", s)
		}
		o.fetches = append(o.fetches, fetchSetting{cooldown: c, poll: p})
	}
	for _, s := range splitList(phases) {
		switch s {
		case "raw", "insert", "insertmany", "work", "combined":
			o.phases = append(o.phases, s)
		default:
			return nil, fmt.Errorf("unknown phase %q", s)
		}
	}
	return &o, nil
}

func splitList(s string) []string {
	var out []string
	for part := range strings.SplitSeq(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

func run(o *options) error {
	logLevel := slog.LevelError + 1 // silent
	if o.verbose {
		logLevel = slog.LevelWarn
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: logLevel}))

	if o.cpuprofile != "" {
		f, err := os.Create(o.cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}

	sqliteVersion, err := probeSQLiteVersion()
	if err != nil {
		return err
	}
	fmt.Printf("go=%s GOMAXPROCS=%d NumCPU=%d river=%s modernc.org/sqlite=%s sqlite=%s n=%d publishers=%d payload=%dB batch=%d workers=%d dir=%s\n\n",
		runtime.Version(), runtime.GOMAXPROCS(0), runtime.NumCPU(), modVersion("github.com/riverqueue/river"),
		modVersion("modernc.org/sqlite"), sqliteVersion, o.n, o.publishers, o.payload, o.batch, o.workers, o.dir)
	fmt.Println("| synchronous | pool | phase | fetch cooldown/poll | run | jobs | seconds | jobs/s | cores busy | other cores | CPU µs/job | p50 | p99 | errors | note |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")

	b := &bench{o: o, logger: logger, payload: makePayload(o.payload)}
	var all []result
	printRow := func(r result) {
		fmt.Printf("| %s | %d | %s | %s | %d | %d | %.2f | %.0f | %.2f | %.2f | %d | %s | %s | %d | %s |\n",
			r.sync, r.pool, r.phase, r.fetch, r.run, r.jobs, r.elapsed.Seconds(), r.rate(),
			r.cores(), r.otherCores(), r.cpuPerJob().Microseconds(), fmtDur(r.p50), fmtDur(r.p99), r.errs, r.note)
	}

	for _, syncMode := range o.syncModes {
		for _, pool := range o.pools {
			for _, phase := range o.phases {
				fetches := []fetchSetting{{}}
				if phase == "work" || phase == "combined" {
					fetches = o.fetches
				}
				for _, f := range fetches {
					for i := 1; i <= o.runs; i++ {
						for attempt := 0; ; attempt++ {
							r, err := b.measure(phase, syncMode, pool, f)
							if err != nil {
								return fmt.Errorf("%s sync=%s pool=%d fetch=%s run=%d: %w", phase, syncMode, pool, f, i, err)
							}
							r.run = i
							if r.noisy() && attempt < o.retries {
								r.note = "DISCARDED, measured again; " + r.note
								printRow(r)
								continue
							}
							all = append(all, r)
							printRow(r)
							break
						}
					}
				}
			}
		}
	}

	fmt.Println()
	fmt.Println("Best of runs per configuration:")
	fmt.Println()
	fmt.Println("| synchronous | pool | phase | fetch cooldown/poll | best jobs/s | all runs jobs/s |")
	fmt.Println("|---|---|---|---|---|---|")
	type key struct {
		sync, phase, fetch string
		pool               int
	}
	var order []key
	groups := map[key][]result{}
	for _, r := range all {
		k := key{r.sync, r.phase, r.fetch, r.pool}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], r)
	}
	for _, k := range order {
		rates := make([]string, 0, len(groups[k]))
		best := 0.0
		for _, r := range groups[k] {
			mark := ""
			if r.noisy() {
				mark = " (noisy)"
			}
			rates = append(rates, fmt.Sprintf("%.0f%s", r.rate(), mark))
			best = max(best, r.rate())
		}
		fmt.Printf("| %s | %d | %s | %s | %.0f | %s |\n", k.sync, k.pool, k.phase, k.fetch, best, strings.Join(rates, ", "))
	}
	return nil
}

type bench struct {
	o       *options
	logger  *slog.Logger
	payload json.RawMessage
	seq     atomic.Int64
}

func (b *bench) args() eventArgs {
	id := b.seq.Add(1)
	return eventArgs{
		EventID: fmt.Sprintf("evt_%020d", id),
		Topic:   "order.created",
		Payload: b.payload,
	}
}

// measure runs one phase against a fresh database file and removes the file
// afterwards.
func (b *bench) measure(phase, syncMode string, pool int, f fetchSetting) (result, error) {
	dir, err := os.MkdirTemp(b.o.dir, "riverbench-")
	if err != nil {
		return result{}, err
	}
	defer os.RemoveAll(dir)

	db, err := openDB(filepath.Join(dir, "bench.sqlite3"), syncMode, pool)
	if err != nil {
		return result{}, err
	}
	defer db.Close()

	ctx := context.Background()
	r := result{sync: syncMode, pool: pool, phase: phase, fetch: "-"}
	switch phase {
	case "raw":
		err = b.raw(ctx, db, &r)
	case "insert":
		err = b.insert(ctx, db, &r, 1)
	case "insertmany":
		err = b.insert(ctx, db, &r, b.o.batch)
	case "work":
		r.fetch = f.String()
		err = b.work(ctx, db, &r, f)
	case "combined":
		r.fetch = f.String()
		err = b.combined(ctx, db, &r, f)
	}
	if r.noisy() {
		r.note = "NOISY: other processes were busy; " + r.note
	}
	return r, err
}

// settle is called right before the timed part of a phase.
func (b *bench) settle(r *result) {
	if b.o.quietLimit > 0 && !waitQuiet(b.o.quietLimit, b.o.quietWait) {
		r.unquiet = true
	}
}

func openDB(path, syncMode string, pool int) (*sql.DB, error) {
	dsn := "file:" + path +
		"?_pragma=busy_timeout(10000)" +
		"&_pragma=journal_mode(WAL)" +
		"&_pragma=synchronous(" + syncMode + ")"
	if pool > 1 {
		// With several connections, deferred transactions that later write
		// can fail with SQLITE_BUSY regardless of busy_timeout; take the
		// write lock at BEGIN so they wait instead.
		dsn += "&_txlock=immediate"
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(pool)
	db.SetMaxIdleConns(pool)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)

	ctx := context.Background()
	var journal string
	var syncVal int
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&journal); err != nil {
		db.Close()
		return nil, err
	}
	if err := db.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&syncVal); err != nil {
		db.Close()
		return nil, err
	}
	want := map[string]int{"OFF": 0, "NORMAL": 1, "FULL": 2, "EXTRA": 3}[syncMode]
	if journal != "wal" || syncVal != want {
		db.Close()
		return nil, fmt.Errorf("pragmas not applied: journal_mode=%s synchronous=%d", journal, syncVal)
	}

	migrator, err := rivermigrate.New(riversqlite.New(db), nil)
	if err != nil {
		db.Close()
		return nil, err
	}
	if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate: %w", err)
	}
	return db, nil
}

// publish runs b.o.publishers goroutines that together perform at most total
// calls of fn, stopping early when ctx ends. fn reports how many jobs it
// committed. Returns jobs committed, failed calls, wall time and per-call
// latencies.
func (b *bench) publish(ctx context.Context, total int, fn func(ctx context.Context) (int, error)) (int64, int64, time.Duration, []time.Duration, cpuSample) {
	var (
		next      atomic.Int64
		committed atomic.Int64
		failed    atomic.Int64
		wg        sync.WaitGroup
		mu        sync.Mutex
		lat       = make([]time.Duration, 0, total)
		firstErr  sync.Once
	)
	cpu0 := sampleCPU()
	start := time.Now()
	for range b.o.publishers {
		wg.Go(func() {
			local := make([]time.Duration, 0, total/b.o.publishers+1)
			for ctx.Err() == nil && next.Add(1) <= int64(total) {
				t0 := time.Now()
				n, err := fn(ctx)
				if err != nil {
					failed.Add(1)
					if ctx.Err() == nil {
						firstErr.Do(func() { fmt.Fprintln(os.Stderr, "riverbench: publish error:", err) })
					}
					continue
				}
				local = append(local, time.Since(t0))
				committed.Add(int64(n))
			}
			mu.Lock()
			lat = append(lat, local...)
			mu.Unlock()
		})
	}
	wg.Wait()
	return committed.Load(), failed.Load(), time.Since(start), lat, sampleCPU().sub(cpu0)
}

// raw is the no-River baseline: the same 1 KB rows committed one per
// transaction into a plain table, to show what the SQLite file itself allows.
func (b *bench) raw(ctx context.Context, db *sql.DB, r *result) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE outbox (id INTEGER PRIMARY KEY, event_id TEXT NOT NULL, args BLOB NOT NULL, state TEXT NOT NULL DEFAULT 'available', created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))`); err != nil {
		return err
	}
	b.settle(r)
	ctx, cancel := context.WithTimeout(ctx, b.o.timeout)
	defer cancel()
	jobs, errs, elapsed, lat, cpu := b.publish(ctx, b.o.n, func(ctx context.Context) (int, error) {
		a := b.args()
		buf, err := json.Marshal(a)
		if err != nil {
			return 0, err
		}
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return 0, err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO outbox (event_id, args) VALUES (?, ?)`, a.EventID, buf); err != nil {
			_ = tx.Rollback()
			return 0, err
		}
		return 1, tx.Commit()
	})
	fillInsert(ctx, r, jobs, errs, elapsed, lat, cpu)
	r.note = "baseline without River: 1 plain INSERT per tx"
	return nil
}

// insert measures client.Insert (batch == 1) or client.InsertMany (batch > 1);
// every call is its own committed transaction.
func (b *bench) insert(ctx context.Context, db *sql.DB, r *result, batch int) error {
	client, err := river.NewClient(riversqlite.New(db), &river.Config{Logger: b.logger})
	if err != nil {
		return err
	}
	b.settle(r)
	ctx, cancel := context.WithTimeout(ctx, b.o.timeout)
	defer cancel()
	calls := (b.o.n + batch - 1) / batch
	jobs, errs, elapsed, lat, cpu := b.publish(ctx, calls, b.insertFunc(client, batch))
	fillInsert(ctx, r, jobs, errs, elapsed, lat, cpu)
	if batch == 1 {
		r.note = "client.Insert, 1 job per tx"
	} else {
		r.note = fmt.Sprintf("client.InsertMany, %d jobs per tx; p50/p99 per batch", batch)
	}
	return countJobs(db, "available", jobs)
}

func (b *bench) insertFunc(client *river.Client[*sql.Tx], batch int) func(context.Context) (int, error) {
	if batch == 1 {
		return func(ctx context.Context) (int, error) {
			_, err := client.Insert(ctx, b.args(), nil)
			return 1, err
		}
	}
	return func(ctx context.Context) (int, error) {
		params := make([]river.InsertManyParams, batch)
		for i := range params {
			params[i] = river.InsertManyParams{Args: b.args()}
		}
		res, err := client.InsertMany(ctx, params)
		return len(res), err
	}
}

func fillInsert(ctx context.Context, r *result, jobs, errs int64, elapsed time.Duration, lat []time.Duration, cpu cpuSample) {
	r.jobs, r.errs, r.elapsed, r.cpu = jobs, errs, elapsed, cpu
	r.p50, r.p99 = percentile(lat, 0.50), percentile(lat, 0.99)
	if ctx.Err() != nil {
		r.note = "TIMED OUT; "
	}
}

// workerClient builds a River client with the no-op worker and subscribes to
// completion events before it starts.
func (b *bench) workerClient(db *sql.DB, f fetchSetting) (*river.Client[*sql.Tx], *noopWorker, <-chan *river.Event, func(), error) {
	workers := river.NewWorkers()
	w := &noopWorker{}
	river.AddWorker(workers, w)
	client, err := river.NewClient(riversqlite.New(db), &river.Config{
		Logger:            b.logger,
		FetchCooldown:     f.cooldown,
		FetchPollInterval: f.poll,
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: b.o.workers}},
		Workers:           workers,
	})
	if err != nil {
		return nil, nil, nil, nil, err
	}
	events, unsubscribe := client.SubscribeConfig(&river.SubscribeConfig{
		ChanSize: b.o.n + 1000,
		Kinds:    []river.EventKind{river.EventKindJobCompleted, river.EventKindJobFailed},
	})
	return client, w, events, unsubscribe, nil
}

// awaitCompletions counts completion events until want jobs have completed or
// ctx ends. Returns completed count, failures and the time of the last one.
func awaitCompletions(ctx context.Context, events <-chan *river.Event, want int) (int64, int64, time.Time) {
	var done, failed int64
	var last time.Time
	for done < int64(want) {
		select {
		case <-ctx.Done():
			return done, failed, last
		case ev := <-events:
			if ev.Kind == river.EventKindJobCompleted {
				done++
				last = time.Now()
			} else {
				failed++
			}
		}
	}
	return done, failed, last
}

func stopClient(client *river.Client[*sql.Tx]) error {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := client.Stop(ctx); err != nil {
		cctx, ccancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer ccancel()
		return errors.Join(err, client.StopAndCancel(cctx))
	}
	return nil
}

// work preloads n jobs (untimed, InsertMany batches) and then times a worker
// client draining them.
func (b *bench) work(ctx context.Context, db *sql.DB, r *result, f fetchSetting) error {
	loader, err := river.NewClient(riversqlite.New(db), &river.Config{Logger: b.logger})
	if err != nil {
		return err
	}
	lctx, lcancel := context.WithTimeout(ctx, 2*b.o.timeout)
	for loaded := 0; loaded < b.o.n; {
		params := make([]river.InsertManyParams, min(500, b.o.n-loaded))
		for i := range params {
			params[i] = river.InsertManyParams{Args: b.args()}
		}
		if _, err := loader.InsertMany(lctx, params); err != nil {
			lcancel()
			return fmt.Errorf("preload: %w", err)
		}
		loaded += len(params)
	}
	lcancel()

	client, w, events, unsubscribe, err := b.workerClient(db, f)
	if err != nil {
		return err
	}
	defer unsubscribe()

	b.settle(r)
	ctx, cancel := context.WithTimeout(ctx, b.o.timeout)
	defer cancel()
	cpu0 := sampleCPU()
	start := time.Now()
	if err := client.Start(ctx); err != nil {
		return err
	}
	done, failed, last := awaitCompletions(ctx, events, b.o.n)
	r.cpu = sampleCPU().sub(cpu0) // includes client start-up, which is small
	timedOut := ctx.Err() != nil
	if err := stopClient(client); err != nil {
		return fmt.Errorf("stop: %w", err)
	}

	first := time.Unix(0, w.firstWork.Load())
	r.jobs, r.errs = done, failed
	if done > 0 {
		r.elapsed = last.Sub(first)
	}
	r.note = fmt.Sprintf("first fetch→last completion; %.2fs incl. client start", last.Sub(start).Seconds())
	if timedOut {
		r.note = "TIMED OUT; " + r.note
		return nil
	}
	return countJobs(db, "completed", int64(b.o.n))
}

// combined runs publishers and the worker client at the same time, as Outlet
// would; jobs/s is n divided by the time from the first publish to the last
// completion.
func (b *bench) combined(ctx context.Context, db *sql.DB, r *result, f fetchSetting) error {
	client, _, events, unsubscribe, err := b.workerClient(db, f)
	if err != nil {
		return err
	}
	defer unsubscribe()

	b.settle(r)
	ctx, cancel := context.WithTimeout(ctx, b.o.timeout)
	defer cancel()
	if err := client.Start(ctx); err != nil {
		return err
	}

	type pubResult struct {
		jobs, errs int64
		elapsed    time.Duration
		lat        []time.Duration
	}
	pubCh := make(chan pubResult, 1)
	cpu0 := sampleCPU()
	start := time.Now()
	go func() {
		jobs, errs, elapsed, lat, _ := b.publish(ctx, b.o.n, b.insertFunc(client, 1))
		pubCh <- pubResult{jobs, errs, elapsed, lat}
	}()
	done, failed, last := awaitCompletions(ctx, events, b.o.n)
	r.cpu = sampleCPU().sub(cpu0)
	pub := <-pubCh
	timedOut := ctx.Err() != nil
	if err := stopClient(client); err != nil {
		return fmt.Errorf("stop: %w", err)
	}

	r.jobs, r.errs = done, failed+pub.errs
	if done > 0 {
		r.elapsed = last.Sub(start)
	}
	r.p50, r.p99 = percentile(pub.lat, 0.50), percentile(pub.lat, 0.99)
	r.note = fmt.Sprintf("client.Insert + workers concurrently; inserts alone %.0f/s; p50/p99 = Insert latency", float64(pub.jobs)/pub.elapsed.Seconds())
	if timedOut {
		r.note = "TIMED OUT; " + r.note
		return nil
	}
	return countJobs(db, "completed", int64(b.o.n))
}

// countJobs checks that the database holds exactly want jobs in state.
func countJobs(db *sql.DB, state string, want int64) error {
	var got int64
	if err := db.QueryRow(`SELECT count(*) FROM river_job WHERE state = ?`, state).Scan(&got); err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("expected %d jobs in state %s, found %d", want, state, got)
	}
	return nil
}

// makePayload builds a JSON object of roughly size bytes that looks like a
// webhook body.
func makePayload(size int) json.RawMessage {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	var sb strings.Builder
	sb.WriteString(`{"type":"order.created","data":{"note":"`)
	for i := 0; sb.Len() < size-3; i++ {
		sb.WriteByte(alphabet[(i*7+i/36)%len(alphabet)])
	}
	sb.WriteString(`"}}`)
	return json.RawMessage(sb.String())
}

func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

func fmtDur(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000)
}

// cpuSample holds CPU time used so far by this process (own) and by the whole
// machine (machine, from /proc/stat; zero where that is unavailable).
type cpuSample struct {
	own, machine time.Duration
}

func (a cpuSample) sub(b cpuSample) cpuSample {
	return cpuSample{own: a.own - b.own, machine: a.machine - b.machine}
}

func sampleCPU() cpuSample {
	var s cpuSample
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		s.own = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	s.machine = machineBusy()
	return s
}

// machineBusy is the busy CPU time of all cores since boot (user, nice,
// system, irq, softirq and steal) from the first line of /proc/stat, which
// counts in USER_HZ = 100 ticks per second on Linux.
func machineBusy() time.Duration {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(data), "\n")
	fields := strings.Fields(line)
	if len(fields) < 9 || fields[0] != "cpu" {
		return 0
	}
	var ticks int64
	for _, i := range []int{1, 2, 3, 6, 7, 8} { // user nice system irq softirq steal
		v, err := strconv.ParseInt(fields[i], 10, 64)
		if err != nil {
			return 0
		}
		ticks += v
	}
	return time.Duration(ticks) * 10 * time.Millisecond
}

// waitQuiet waits, at most maxWait, until other processes have kept less than
// limit cores busy for two consecutive one-second windows, so that concurrent
// work on a shared machine does not distort a measurement. Reports whether
// the machine was quiet.
func waitQuiet(limit float64, maxWait time.Duration) bool {
	deadline := time.Now().Add(maxWait)
	quiet := 0
	for {
		s0 := sampleCPU()
		time.Sleep(time.Second)
		d := sampleCPU().sub(s0)
		if (d.machine - d.own).Seconds() < limit {
			quiet++
		} else {
			quiet = 0
		}
		if quiet >= 2 {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}

func probeSQLiteVersion() (string, error) {
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		return "", err
	}
	defer db.Close()
	var v string
	err = db.QueryRow("SELECT sqlite_version()").Scan(&v)
	return v, err
}

func modVersion(path string) string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	for _, m := range info.Deps {
		if m.Path == path {
			return m.Version
		}
	}
	return "unknown"
}
