package bench

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Process is what a run reads of a process it measures, from /proc.
type Process struct {
	RSS, PeakRSS int64         // bytes resident now, and at most so far
	CPU          time.Duration // user and system time used so far
}

// clockTick is the unit of /proc's CPU times. Linux has reported them in
// hundredths of a second (USER_HZ) to user space on every architecture
// since 2.6, whatever the kernel's own HZ.
const clockTick = 10 * time.Millisecond

// ReadProcess reads a running process's memory and CPU time so far.
func ReadProcess(pid int) (Process, error) {
	var p Process
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return p, fmt.Errorf("read process %d: %w", pid, err)
	}
	for line := range strings.Lines(string(status)) {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch k {
		case "VmRSS":
			p.RSS = n << 10
		case "VmHWM":
			p.PeakRSS = n << 10
		}
	}
	p.CPU, err = readCPU(pid)
	return p, err
}

// readCPU reads the user and system time a process has used so far.
func readCPU(pid int) (time.Duration, error) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read process %d: %w", pid, err)
	}
	// The command name, field 2, is in parentheses and may hold spaces;
	// utime and stime are fields 14 and 15, the 12th and 13th after it.
	f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("read process %d: /proc/%d/stat has %d fields after the name", pid, pid, len(f))
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("read process %d: CPU times %q %q are not numbers", pid, f[11], f[12])
	}
	return time.Duration(utime+stime) * clockTick, nil
}

// processCPU reads the CPU time every process of the machine has used so
// far, by process id. With a database on the same machine, that counts what
// it spent too. (The machine's own tally in /proc/stat is sampled at each
// clock tick, and misses much of the short bursts a moderate load is made
// of; a process's own times are exact.)
func processCPU() map[int]time.Duration {
	cpu := map[int]time.Duration{}
	dir, err := os.ReadDir("/proc")
	if err != nil {
		return cpu
	}
	for _, e := range dir {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if p, err := readCPU(pid); err == nil {
			cpu[pid] = p
		}
	}
	return cpu
}

// machineCPU is the CPU time the machine's processes used between two
// readings of processCPU; a process started between them counts in full.
func machineCPU(before, after map[int]time.Duration) time.Duration {
	var d time.Duration
	for pid, t := range after {
		d += t - min(before[pid], t)
	}
	return d
}

// cpuMeter reads, at the start and end of a run, the CPU used by the
// servers, by this process (publishers and receiver) and by the machine.
type cpuMeter struct {
	servers []func() (Process, error)
	server  time.Duration
	self    time.Duration
	machine map[int]time.Duration
}

func (m *cpuMeter) read() (server, self time.Duration, machine map[int]time.Duration, peak int64) {
	for _, s := range m.servers {
		if p, err := s(); err == nil {
			server += p.CPU
			peak += p.PeakRSS
		}
	}
	if p, err := ReadProcess(os.Getpid()); err == nil {
		self = p.CPU
	}
	return server, self, processCPU(), peak
}

func (m *cpuMeter) start() { m.server, m.self, m.machine, _ = m.read() }

// stop fills in res's CPU columns for the events accepted since start.
func (m *cpuMeter) stop(res *Result) {
	server, self, machine, peak := m.read()
	per := func(d time.Duration) float64 {
		if res.Accepted == 0 {
			return 0
		}
		return float64(d.Microseconds()) / 1000 / float64(res.Accepted)
	}
	if len(m.servers) > 0 {
		res.ServerCPUSeconds = (server - m.server).Seconds()
		res.ServerCPUPerEventMs = per(server - m.server)
		res.ServerPeakRSSMB = mb(peak)
	}
	res.BenchCPUSeconds = (self - m.self).Seconds()
	if all := machineCPU(m.machine, machine); all > 0 {
		res.MachineCPUSeconds = all.Seconds()
		res.MachineCPUPerEventMs = per(all)
	}
}
