package testenv

import (
	"testing"
	"time"

	"github.com/partnerportal/licenses/shared/store"
)

// Meter measures what a benchmark's operations cost: the DynamoDB requests,
// items and bytes read of each (added from their store.Stats), and the CPU
// time of the whole process over the run (every goroutine, the garbage
// collector included; an emulator running in process counts too, so make
// bench measures CPU against an emulator in another process).
type Meter struct {
	requests, items, bytes, written, bytesWritten, chain int64
	readHalfUnits, writeUnits                            int64
	cpu                                                  time.Duration
}

// StartMeter starts measuring; call it after the benchmark's setup.
func StartMeter() *Meter { return &Meter{cpu: processCPU()} }

// Add counts the work of one operation.
func (m *Meter) Add(s *store.Stats) {
	m.requests += s.Requests.Load()
	m.items += s.ItemsRead.Load()
	m.bytes += s.BytesRead.Load()
	m.written += s.Written.Load()
	m.bytesWritten += s.BytesWritten.Load()
	m.chain += int64(s.Chain())
	m.readHalfUnits += s.ReadHalfUnits.Load()
	m.writeUnits += s.WriteUnits.Load()
}

// Report reports the figures per operation: ddb-requests/op, ddb-items/op,
// ddb-KB/op (read), ddb-chain/op (the longest run of requests made one
// after another), ddb-RRU/op (read capacity units), written items, KB and
// write units when there are any, and cpu-ms/op.
func (m *Meter) Report(b *testing.B) {
	b.Helper()
	cpu := processCPU() - m.cpu
	n := float64(b.N)
	b.ReportMetric(float64(m.requests)/n, "ddb-requests/op")
	b.ReportMetric(float64(m.items)/n, "ddb-items/op")
	b.ReportMetric(float64(m.bytes)/1000/n, "ddb-KB/op")
	b.ReportMetric(float64(m.chain)/n, "ddb-chain/op")
	b.ReportMetric(float64(m.readHalfUnits)/2/n, "ddb-RRU/op")
	if m.written > 0 {
		b.ReportMetric(float64(m.written)/n, "ddb-written/op")
		b.ReportMetric(float64(m.bytesWritten)/1000/n, "ddb-KB-written/op")
		b.ReportMetric(float64(m.writeUnits)/n, "ddb-WRU/op")
	}
	b.ReportMetric(float64(cpu.Microseconds())/1000/n, "cpu-ms/op")
}
