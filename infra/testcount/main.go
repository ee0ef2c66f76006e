// Command testcount reads `go test -json` on stdin, prints the test output as
// go test would, and ends with a count of the tests that passed, failed and
// were skipped, so that a run against an emulator shows it ran tests and did
// not skip them:
//
//	go test -json ./... | go run ./infra/testcount -label minidyn [-allow-skip 'TestA|TestB/sub']
//
// It exits non-zero when a test or package failed, when no test ran, or when
// a test skipped that -allow-skip does not name: a skip is intended, by
// name, or it fails the run.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strings"
)

type event struct {
	Action  string
	Package string
	Test    string
	Output  string
}

type counts struct {
	pass, fail, skip int
	failed, skipped  []string
	pkgFail          []string
}

func main() {
	label := flag.String("label", "tests", "what the tests ran against, for the summary")
	allowSkip := flag.String("allow-skip", "", "a regular expression of the tests (by name) that may skip; any other skip fails the run")
	flag.Parse()
	allowed, err := regexp.Compile("^(?:" + *allowSkip + ")$")
	if err != nil || *allowSkip == "" {
		allowed = nil
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "testcount: -allow-skip:", err)
		os.Exit(2)
	}
	c, err := count(os.Stdin, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testcount:", err)
		os.Exit(2)
	}
	fmt.Printf("\n%s: %d tests passed, %d failed, %d skipped\n", *label, c.pass, c.fail, c.skip)
	for _, name := range c.failed {
		fmt.Println("  FAILED ", name)
	}
	for _, pkg := range c.pkgFail {
		fmt.Println("  FAILED package", pkg)
	}
	for _, name := range c.skipped {
		fmt.Println("  skipped", name)
	}
	switch {
	case c.fail > 0 || len(c.pkgFail) > 0:
		os.Exit(1)
	case c.pass == 0:
		fmt.Printf("%s: no test ran\n", *label)
		os.Exit(1)
	}
	if bad := c.unexpectedSkips(allowed); len(bad) > 0 {
		fmt.Printf("%s: these tests skipped, and this run allows no skip but of %q:\n", *label, *allowSkip)
		for _, id := range bad {
			fmt.Println("  ", id)
		}
		os.Exit(1)
	}
}

// unexpectedSkips returns the skipped tests whose name (top-level test
// included, as "TestX/sub") allowed does not match; nil allows none.
func (c counts) unexpectedSkips(allowed *regexp.Regexp) []string {
	var bad []string
	for _, id := range c.skipped {
		_, test, _ := strings.Cut(id, " ")
		if allowed == nil || !allowed.MatchString(test) {
			bad = append(bad, id)
		}
	}
	return bad
}

// count counts the results of tests, subtests included, and copies to out
// what a reader needs: the output of tests that failed, and each package's
// result line. Passing tests' chatter is left out.
func count(in io.Reader, out io.Writer) (counts, error) {
	var c counts
	pending := make(map[string][]string) // output of running tests, by package and test
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			// Not an event: build output, say. Pass it on.
			fmt.Fprintln(out, sc.Text())
			continue
		}
		id := e.Package + " " + e.Test
		switch e.Action {
		case "output":
			if e.Test != "" {
				pending[id] = append(pending[id], e.Output)
			} else if !strings.HasPrefix(e.Output, "=== ") && e.Output != "PASS\n" {
				io.WriteString(out, e.Output)
			}
		case "pass":
			if e.Test != "" {
				c.pass++
				delete(pending, id)
			}
		case "fail":
			if e.Test != "" {
				c.fail++
				c.failed = append(c.failed, id)
				for _, line := range pending[id] {
					io.WriteString(out, line)
				}
				delete(pending, id)
			} else {
				c.pkgFail = append(c.pkgFail, e.Package)
				// A panic or a timeout ends the package with tests still
				// running: show what they printed.
				for pid, lines := range pending {
					if strings.HasPrefix(pid, e.Package+" ") {
						for _, line := range lines {
							io.WriteString(out, line)
						}
						delete(pending, pid)
					}
				}
			}
		case "skip":
			if e.Test != "" {
				c.skip++
				c.skipped = append(c.skipped, id)
				delete(pending, id)
			}
		}
	}
	sort.Strings(c.skipped)
	return c, sc.Err()
}
