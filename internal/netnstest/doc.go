// Package netnstest builds throw-away network namespaces for tests that need
// real multicast or several hosts, without touching the machine's own
// interfaces.
//
// A test calls [Require] (which skips unless the process is root and
// iproute2's ip command is present), then [NewNamespace] for a namespace
// with only a multicast-capable loopback, or [NewLAN] for several namespaces
// joined by a bridge. Code runs inside a namespace in a child process: either
// any command through [Command], or the current test binary re-executed on
// one test through [TestCommand] and [RunTestInNS]. The child test recognises
// itself with [InChild] (or skips elsewhere with [ChildOnly]) and reads the
// parameters the parent passed from its environment.
//
// Everything a helper creates is deleted in t.Cleanup, even when the test
// fails, and namespaces left behind by an earlier run that crashed (their
// creating process is gone) are swept when the next one starts. Every ip
// command runs under [CommandTimeout].
//
// The host network namespace is never modified: bridges and veth pairs are
// created inside the test's own namespaces, and addresses come from
// 10.213.0.0/16.
package netnstest
