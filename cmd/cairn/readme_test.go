package main

import (
	"bufio"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"
)

// readmeCommands returns every command line in the README's sh blocks that
// runs cairn, as arguments after "cairn".
func readmeCommands(t *testing.T) [][]string {
	t.Helper()
	f, err := os.Open("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cmds [][]string
	inSh := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "```"):
			inSh = !inSh && strings.TrimPrefix(line, "```") == "sh"
			continue
		case !inSh:
			continue
		}
		fields := strings.Fields(line)
		switch {
		case len(fields) >= 1 && fields[0] == "cairn":
			cmds = append(cmds, fields[1:])
		case len(fields) >= 3 && fields[0] == "go" && fields[1] == "run" && fields[2] == "./cmd/cairn":
			cmds = append(cmds, fields[3:])
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return cmds
}

// TestReadmeCommands checks that every cairn command line in the README
// parses: the command exists, its flags exist and take the right values,
// and its arguments fit.
func TestReadmeCommands(t *testing.T) {
	cmds := readmeCommands(t)
	if len(cmds) < 15 {
		t.Fatalf("found only %d cairn commands in README.md", len(cmds))
	}
	if strings.Join(cmds[0], " ") != "demo" {
		t.Fatalf("the README's first command is %q, want `go run ./cmd/cairn demo`", cmds[0])
	}
	for _, args := range cmds {
		a := newApp(strings.NewReader(""), io.Discard, io.Discard)
		root := a.rootCommand()
		c, rest, err := root.Find(args)
		if err != nil {
			t.Errorf("cairn %s: %v", strings.Join(args, " "), err)
			continue
		}
		if !c.Runnable() || c == root {
			t.Errorf("cairn %s: not a command", strings.Join(args, " "))
			continue
		}
		if err := c.ParseFlags(rest); err != nil {
			t.Errorf("cairn %s: %v", strings.Join(args, " "), err)
			continue
		}
		if err := c.ValidateArgs(c.Flags().Args()); err != nil {
			t.Errorf("cairn %s: %v", strings.Join(args, " "), err)
		}
	}
}

// TestReadmeExitCodes checks the README's exit code table matches --help.
func TestReadmeExitCodes(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := regexp.MustCompile(`(?m)^\| (\d+) \|`).FindAllStringSubmatch(string(b), -1)
	help := regexp.MustCompile(`(?m)^  (\d+) `).FindAllStringSubmatch(exitCodesHelp, -1)
	if len(rows) == 0 || len(rows) != len(help) {
		t.Fatalf("README has %d exit codes, --help %d", len(rows), len(help))
	}
	for i := range rows {
		if rows[i][1] != help[i][1] {
			t.Fatalf("exit code %d: README %s, --help %s", i, rows[i][1], help[i][1])
		}
	}
}
