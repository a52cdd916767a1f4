// Package loadtest holds what cairn's load, fault and hostile-input tests
// share, and nothing else imports it:
//
//   - [Start] re-executes the running test binary as a child process that runs
//     one test (a relay, a node), which the parent can stop, kill -9 and
//     restart; the child talks back with [Signal] lines on its stdout;
//   - [ReadProc] reads a process's CPU time, resident memory, threads and open
//     files from /proc (Linux);
//   - [Latencies] collects durations and reports quantiles;
//   - [Proxy] is a TCP proxy that splits each direction into units (cairn
//     frames, or WebSocket frames after the HTTP upgrade) and lets a [Policy]
//     drop, duplicate, delay, reorder, truncate, alter or stall them, and a
//     test inject its own.
//
// Everything listens and dials on loopback only.
package loadtest
