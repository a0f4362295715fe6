package sheet_test

import (
	"fmt"
	"runtime/metrics"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/xunji-bot/xunji/commands/internal/sheet"
)

// benchRows is the size of 进度 导出 at the scale benchmark's L (24k
// rectification items), in the export's 14 columns of mixed types.
const benchRows = 24_000

func benchTable() Table {
	base := time.Date(2026, 1, 5, 9, 30, 0, 0, time.UTC)
	t := Table{
		Name:   "整改事项",
		Header: []string{"编号", "责任单位", "事项", "督办单位", "期限", "立行立改", "状态", "进度（%）", "逾期", "最近更新", "更新人", "说明", "未报单位", "创建时间"},
	}
	for i := range benchRows {
		at := base.Add(time.Duration(i) * time.Hour)
		t.Rows = append(t.Rows, []any{
			fmt.Sprintf("ZG-2026-%05d", i+1), "区财政局党组", "关于落实巡察反馈问题第" + fmt.Sprint(i%97) + "项的整改", "第二监督检查室",
			Date(at.AddDate(0, 3, 0)), "否", "推进中", Percent(i % 101), "否", DateTime(at), "李娜", "已完成制度修订，正在组织培训", "", DateTime(at),
		})
	}
	return t
}

// BenchmarkWrite24k writes one sheet of 24k rows; run with -benchmem for
// the bytes and allocations one workbook costs. peak-heap-MB is the most
// live heap seen while writing (sampled every millisecond), the table
// itself included.
func BenchmarkWrite24k(b *testing.B) {
	t := benchTable()
	var peak atomic.Uint64
	done := make(chan struct{})
	go func() {
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				metrics.Read(s)
				if v := s[0].Value.Uint64(); v > peak.Load() {
					peak.Store(v)
				}
			}
		}
	}()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		data, err := Write(time.UTC, t)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(len(data)), "xlsx-bytes")
	}
	close(done)
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MB")
}
