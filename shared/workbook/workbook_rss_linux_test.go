package workbook_test

import (
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// BenchmarkWorkbookRSS runs each variant of BenchmarkWorkbook once in a
// fresh process (this test binary, running TestWorkbookBenchChild) and
// reports the process's peak resident set size: what a Lambda function's
// memory setting has to cover, runtime and garbage included.
//
// The peak is the child's own VmHWM, printed by the child. The Maxrss of
// the child's rusage would be wrong here: Go starts children with vfork, so
// the child's high-water mark starts from the parent's, which after the
// cell-by-cell benchmarks is gigabytes.
func BenchmarkWorkbookRSS(b *testing.B) {
	hwm := regexp.MustCompile(`VmHWM:\s+(\d+) kB`)
	for _, v := range variants() {
		b.Run(v.name, func(b *testing.B) {
			var rssKB int
			var wall time.Duration
			for b.Loop() {
				cmd := exec.Command(os.Args[0], "-test.run=^TestWorkbookBenchChild$", "-test.bench=^$", "-test.count=1", "-test.v")
				cmd.Env = append(append(os.Environ(), childEnv+"="+v.name), v.env...)
				cmd.Stderr = os.Stderr
				start := time.Now()
				out, err := cmd.Output()
				wall = time.Since(start)
				if err != nil {
					b.Fatalf("child: %v\n%s", err, out)
				}
				m := hwm.FindSubmatch(out)
				if m == nil {
					b.Skipf("child reported no VmHWM:\n%s", out)
				}
				kb, _ := strconv.Atoi(string(m[1]))
				rssKB = max(rssKB, kb)
			}
			b.ReportMetric(float64(rssKB)/1024, "peak-RSS-MB")
			b.ReportMetric(wall.Seconds(), "child-s")
		})
	}
}
