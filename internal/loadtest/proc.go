package loadtest

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTick is the unit of utime and stime in /proc/<pid>/stat (USER_HZ,
// which Linux fixes at 100 for this interface).
const clockTick = 10 * time.Millisecond

// ProcStats is what /proc says about one process.
type ProcStats struct {
	CPU     time.Duration // user + system time since the process started
	RSS     int64         // resident memory now, bytes (VmRSS)
	PeakRSS int64         // the most resident memory so far, bytes (VmHWM)
	Threads int
	FDs     int // open file descriptors
}

// ReadProc reads the stats of process pid from /proc/<pid>/stat, status and
// fd (Linux only).
func ReadProc(pid int) (ProcStats, error) {
	var st ProcStats
	dir := "/proc/" + strconv.Itoa(pid)
	stat, err := os.ReadFile(dir + "/stat")
	if err != nil {
		return st, err
	}
	// The command name in parentheses may contain spaces: fields are
	// counted from the last ')'. utime and stime are fields 14 and 15.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return st, fmt.Errorf("loadtest: malformed %s/stat", dir)
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 13 {
		return st, fmt.Errorf("loadtest: short %s/stat", dir)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return st, fmt.Errorf("loadtest: malformed times in %s/stat", dir)
	}
	st.CPU = time.Duration(utime+stime) * clockTick

	status, err := os.ReadFile(dir + "/status")
	if err != nil {
		return st, err
	}
	for line := range strings.Lines(string(status)) {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		fs := strings.Fields(v)
		if len(fs) == 0 {
			continue
		}
		n, err := strconv.ParseInt(fs[0], 10, 64)
		if err != nil {
			continue
		}
		switch k {
		case "VmRSS":
			st.RSS = n << 10 // kB
		case "VmHWM":
			st.PeakRSS = n << 10
		case "Threads":
			st.Threads = int(n)
		}
	}
	fds, err := os.ReadDir(dir + "/fd")
	if err != nil {
		return st, err
	}
	st.FDs = len(fds)
	return st, nil
}

// MiB formats a byte count in MiB.
func MiB(b int64) string { return strconv.FormatFloat(float64(b)/(1<<20), 'f', 1, 64) + " MiB" }

// KiB formats a byte count in KiB.
func KiB(b float64) string { return strconv.FormatFloat(b/(1<<10), 'f', 1, 64) + " KiB" }
