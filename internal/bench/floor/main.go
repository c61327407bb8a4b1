// Command floor measures what the least a durable webhook relay can do costs
// on this machine, so that Outlet's own numbers (outlet bench) can be read
// against the machine rather than against a goal set elsewhere.
//
// The relay it measures takes an HTTP POST, makes the body durable (group
// commit: every request queued while the last fsync ran shares the next),
// answers 202, and POSTs the body to a receiver. Nothing else: no JSON, no
// signing, no routing, no claim, no record of the outcome, no retry. It runs
// as a child process so that its CPU time is its own; the publishers and the
// receiver run in this one.
//
//	go run ./internal/bench/floor -store sqlite -rate 500     # steady load: CPU per event
//	go run ./internal/bench/floor -store sqlite -rate 0       # as fast as it goes
//
// -store none keeps nothing (the HTTP floor), -store file writes -frames 4 KB
// pages to a file and fsyncs it (what a SQLite WAL commit does to the disk),
// -store sqlite inserts each body into a one-table SQLite database in WAL
// mode with synchronous=FULL through the driver Outlet uses, and -store
// postgres://... into a table floor_events there (dropped and made afresh)
// through pgx, a batch a transaction.
package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	_ "modernc.org/sqlite"
)

func main() {
	role := flag.String("role", "load", "load (publishers and receiver; starts the relay) or relay")
	store := flag.String("store", "sqlite", "how the relay makes a body durable: none, file or sqlite")
	frames := flag.Int("frames", 6, "with -store file: 4 KB pages written per commit, plus one per two events in it")
	relayOut := flag.Bool("deliver", true, "the relay POSTs each body on to the receiver")
	rate := flag.Int("rate", 500, "events per second in all; 0 posts as fast as the relay answers")
	n := flag.Int("n", 7500, "events to post")
	concurrency := flag.Int("concurrency", 32, "with -rate 0: publishers posting one event after another")
	target := flag.String("target", "", "with -role relay: where to deliver")
	dir := flag.String("dir", "", "with -role relay: directory for the relay's file or database")
	flag.Parse()

	if *role == "relay" {
		if err := relay(*store, *dir, *target, *frames, *relayOut); err != nil {
			log.Fatal(err)
		}
		return
	}
	if err := load(*store, *frames, *relayOut, *rate, *n, *concurrency); err != nil {
		log.Fatal(err)
	}
}

// load starts the relay, posts n events to it and waits for the receiver to
// have them all, then prints the relay's CPU time per event.
func load(store string, frames int, deliver bool, rate, n, concurrency int) error {
	var received sync.WaitGroup
	if deliver {
		received.Add(n)
	}
	var mu sync.Mutex
	latencies := make([]time.Duration, 0, n)
	rl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go http.Serve(rl, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if sent, err := strconv.ParseInt(string(bytes.TrimRight(b[:min(len(b), 20)], "x")), 10, 64); err == nil {
			mu.Lock()
			latencies = append(latencies, time.Since(time.Unix(0, sent)))
			mu.Unlock()
		}
		w.WriteHeader(http.StatusOK)
		received.Done()
	}))

	dir, err := os.MkdirTemp("", "outlet-floor-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cmd := exec.Command(os.Args[0], "-role", "relay", "-store", store, "-frames", strconv.Itoa(frames),
		"-deliver="+strconv.FormatBool(deliver), "-dir", dir, "-target", "http://"+rl.Addr().String()+"/")
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	defer cmd.Process.Kill()
	addr, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		return fmt.Errorf("relay did not start: %w", err)
	}
	url := "http://" + strings.TrimSpace(addr) + "/"

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}, Timeout: 30 * time.Second}
	var failed atomic.Int64
	post := func() {
		// The body starts with the time it was sent, for the receiver.
		body := bytes.Repeat([]byte("x"), 1024)
		copy(body, strconv.FormatInt(time.Now().UnixNano(), 10))
		resp, err := client.Post(url, "application/json", bytes.NewReader(body))
		if err != nil {
			failed.Add(1)
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			failed.Add(1)
		}
	}

	start := time.Now()
	cpu0, err := processCPU(cmd.Process.Pid)
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	if rate > 0 {
		tick := time.NewTicker(time.Second / time.Duration(rate))
		defer tick.Stop()
		for range n {
			<-tick.C
			wg.Go(post)
		}
	} else {
		var next atomic.Int64
		for range concurrency {
			wg.Go(func() {
				for next.Add(1) <= int64(n) {
					post()
				}
			})
		}
	}
	wg.Wait()
	if f := failed.Load(); f > 0 {
		return fmt.Errorf("%d of %d posts failed", f, n)
	}
	done := make(chan struct{})
	go func() { received.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		return fmt.Errorf("the receiver did not get every event within a minute")
	}
	elapsed := time.Since(start)
	cpu1, err := processCPU(cmd.Process.Pid)
	if err != nil {
		return err
	}
	cpu := cpu1 - cpu0
	if strings.HasPrefix(store, "postgres://") {
		store = "postgres"
	}
	fmt.Printf("store=%-8s deliver=%-5t rate=%-4d events=%d: %.1f s, %.0f events/s, relay CPU %.2f s = %.3f ms per event",
		store, deliver, rate, n, elapsed.Seconds(), float64(n)/elapsed.Seconds(), cpu.Seconds(), cpu.Seconds()*1000/float64(n))
	if len(latencies) > 0 {
		slices.Sort(latencies)
		at := func(p int) float64 { return float64(latencies[len(latencies)*p/100].Microseconds()) / 1000 }
		fmt.Printf(", sent→received p50 %.1f ms p99 %.1f ms", at(50), at(99))
	}
	fmt.Println()
	return nil
}

// processCPU reads the user and system time pid has used from /proc.
func processCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The fields after the command name, which is in parentheses and may
	// hold spaces: utime and stime are the 12th and 13th of them.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("unexpected /proc/%d/stat", pid)
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / 100, nil // USER_HZ is 100 on Linux
}

// relay serves until killed, printing its address first.
func relay(store, dir, target string, frames int, deliver bool) error {
	durable, err := openStore(store, dir, frames)
	if err != nil {
		return err
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}, Timeout: 30 * time.Second}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Println(ln.Addr().String())
	return http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err == nil && durable != nil {
			err = durable.commit(body)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusAccepted)
		if deliver {
			go func() {
				resp, err := client.Post(target, "application/json", bytes.NewReader(body))
				if err != nil {
					log.Print(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}()
		}
	}))
}

// groupCommit makes bodies durable in batches: a batch is everything that
// queued while the last one was written.
type groupCommit struct {
	queue chan pending
	write func([][]byte) error
}

type pending struct {
	body []byte
	done chan error
}

func openStore(store, dir string, frames int) (*groupCommit, error) {
	var write func([][]byte) error
	switch store {
	case "none":
		return nil, nil
	case "file":
		f, err := os.OpenFile(filepath.Join(dir, "wal"), os.O_CREATE|os.O_RDWR, 0o600)
		if err != nil {
			return nil, err
		}
		write = fileWriter(f, frames)
	case "sqlite":
		var err error
		if write, err = sqliteWriter(filepath.Join(dir, "relay.db")); err != nil {
			return nil, err
		}
	default:
		if !strings.HasPrefix(store, "postgres://") {
			return nil, fmt.Errorf("-store %q: want none, file, sqlite or a postgres:// URL", store)
		}
		var err error
		if write, err = postgresWriter(store); err != nil {
			return nil, err
		}
	}
	g := &groupCommit{queue: make(chan pending, 1024), write: write}
	go g.run()
	return g, nil
}

func (g *groupCommit) commit(body []byte) error {
	p := pending{body: body, done: make(chan error, 1)}
	g.queue <- p
	return <-p.done
}

func (g *groupCommit) run() {
	for first := range g.queue {
		batch := []pending{first}
	gather:
		for len(batch) < cap(g.queue) {
			select {
			case p := <-g.queue:
				batch = append(batch, p)
			default:
				break gather
			}
		}
		bodies := make([][]byte, len(batch))
		for i, p := range batch {
			bodies[i] = p.body
		}
		err := g.write(bodies)
		for _, p := range batch {
			p.done <- err
		}
	}
}

// fileWriter writes pages as a WAL does, a 24-byte frame header and a 4 KB
// page each, over the first 4 MB of the file again and again (as SQLite
// reuses its WAL after a checkpoint), and fsyncs.
func fileWriter(f *os.File, frames int) func([][]byte) error {
	const frame = 24 + 4096
	page := make([]byte, 4096)
	var off int64
	return func(bodies [][]byte) error {
		for range frames + len(bodies)/2 {
			if _, err := f.WriteAt(page[:24], off); err != nil {
				return err
			}
			if _, err := f.WriteAt(page, off+24); err != nil {
				return err
			}
			if off += frame; off > 4<<20 {
				off = 0
			}
		}
		return f.Sync()
	}
}

// sqliteWriter inserts the bodies of a batch in one transaction, with the
// pragmas Outlet's store uses.
func sqliteWriter(path string) (func([][]byte) error, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_txlock=immediate")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `CREATE TABLE events (id INTEGER PRIMARY KEY, received_at INTEGER NOT NULL, body BLOB NOT NULL)`); err != nil {
		return nil, err
	}
	insert, err := db.PrepareContext(ctx, `INSERT INTO events (received_at, body) VALUES (?, ?)`)
	if err != nil {
		return nil, err
	}
	return func(bodies [][]byte) error {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		now := time.Now().UnixMilli()
		for _, b := range bodies {
			if _, err := tx.StmtContext(ctx, insert).ExecContext(ctx, now, b); err != nil {
				tx.Rollback()
				return err
			}
		}
		return tx.Commit()
	}, nil
}

// postgresWriter inserts the bodies of a batch in one transaction, sent in
// one round trip, into a table it makes afresh.
func postgresWriter(url string) (func([][]byte) error, error) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, `DROP TABLE IF EXISTS floor_events;
		CREATE TABLE floor_events (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, received_at timestamptz NOT NULL, body bytea NOT NULL)`); err != nil {
		return nil, err
	}
	return func(bodies [][]byte) error {
		b := &pgx.Batch{}
		b.Queue("BEGIN")
		now := time.Now()
		for _, body := range bodies {
			b.Queue(`INSERT INTO floor_events (received_at, body) VALUES ($1, $2)`, now, body)
		}
		b.Queue("COMMIT")
		return conn.SendBatch(ctx, b).Close()
	}, nil
}
