package chart

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"strings"
	"testing"
)

var (
	blue   = color.RGBA{0x2b, 0x6c, 0xb0, 0xff}
	orange = color.RGBA{0xf0, 0x8c, 0x2a, 0xff}
)

func series(rate, avg []float64) []Series {
	return []Series{{Name: "完成率", Values: rate, Color: blue}, {Name: "平均进度", Values: avg, Color: orange}}
}

// charts are the shapes a notice chart takes: a few units, long names,
// many units, the smallest canvas the configuration allows, English.
func charts() map[string]Bars {
	many := Bars{Title: "各单位整改完成情况（2026年12月）", AsOf: "数据截至 2026-12-10 10:00", XLabel: "百分比（%）", Max: 100, Unit: "%", Width: 1200, Height: 700}
	var rate, avg []float64
	for i := range 20 {
		many.Labels = append(many.Labels, fmt.Sprintf("第%d责任单位党委", i+1))
		many.Marks = append(many.Marks, []string{"", "逾期 1", "未报送 2", "逾期 3 · 未报送 1"}[i%4])
		rate, avg = append(rate, float64(100-5*i)), append(avg, float64(100-4*i))
	}
	many.Series = series(rate, avg)
	return map[string]Bars{
		"three units": {
			Title: "各单位整改完成情况（2026年12月）", AsOf: "数据截至 2026-12-10 10:00", XLabel: "百分比（%）", Max: 100, Unit: "%", Width: 1200, Height: 700,
			Labels: []string{"城关镇党委", "区财政局党组", "区住建局党组"},
			Marks:  []string{"", "逾期 1", "未报送 1"},
			Series: series([]float64{100, 33, 0}, []float64{100, 53, 10}),
		},
		"long names": {
			Title: "各单位整改完成情况（2026年12月）", AsOf: "数据截至 2026-12-10 10:00", Max: 100, Unit: "%", Width: 800, Height: 500,
			Labels: []string{strings.Repeat("区人力资源和社会保障局", 4) + "党组", "区财政局党组", strings.Repeat("城关镇", 20)},
			Marks:  []string{"逾期 12 · 未报送 3", "", strings.Repeat("未报送 1 ", 20)},
			Series: series([]float64{100, 100, 0}, []float64{100, 99, 0}),
		},
		"many units": many,
		"smallest canvas": {
			Title: "各单位整改完成情况（2027年1月）", AsOf: "数据截至 2027-01-12 10:00", XLabel: "百分比（%）", Max: 100, Unit: "%", Width: 300, Height: 200,
			Labels: []string{"区财政局党组"}, Marks: []string{"逾期 1 · 未报送 1"},
			Series: series([]float64{0}, []float64{100}),
		},
		"english": {
			Title: "Rectification by unit (December 2026)", AsOf: "Data as of 2026-12-10 10:00", XLabel: "Percent", Max: 100, Unit: "%", Width: 1200, Height: 700,
			Labels: []string{"Chengguan Town Party Committee", "District Finance Bureau Party Leadership Group"},
			Marks:  []string{"overdue 1 · not reported 2", ""},
			Series: []Series{{Name: "Completion rate", Values: []float64{50, 0}, Color: blue}, {Name: "Average progress", Values: []float64{75, 5}, Color: orange}},
		},
	}
}

// Every box is inside the canvas and no two boxes overlap: no text is
// clipped, and no value label lies on a bar or another text.
func TestLayoutInsideAndWithoutOverlaps(t *testing.T) {
	for name, b := range charts() {
		t.Run(name, func(t *testing.T) {
			l, err := b.Layout()
			if err != nil {
				t.Fatal(err)
			}
			for i, a := range l.Boxes {
				if !a.Inside(b.Width, b.Height) {
					t.Errorf("%s %q at (%.1f,%.1f) %.1f×%.1f is outside the %d×%d canvas", a.Kind, a.Text, a.X, a.Y, a.W, a.H, b.Width, b.Height)
				}
				if a.IsText() && (a.Text == "" || a.W <= 0 || a.H <= 0) {
					t.Errorf("empty %s box %+v", a.Kind, a)
				}
				for _, c := range l.Boxes[i+1:] {
					if a.Overlaps(c) {
						t.Errorf("%s %q (row %d) overlaps %s %q (row %d): %+v / %+v", a.Kind, a.Text, a.Row, c.Kind, c.Text, c.Row, a, c)
					}
				}
			}
			count := map[Kind]int{}
			for _, a := range l.Boxes {
				count[a.Kind]++
			}
			n := len(b.Labels)
			if count[KindValue] != n*len(b.Series) || count[KindLegend] != len(b.Series) || count[KindSwatch] != len(b.Series) || count[KindTitle] != 1 || count[KindAsOf] != 1 {
				t.Errorf("boxes by kind %v for %d rows", count, n)
			}
		})
	}
}

// The value axis runs from 0 to Max, no further: the last tick is Max and
// a full bar ends at the plot's right edge; values are printed as given,
// at their bar's end, in their bar's band; rows stay in the given order;
// long names are wrapped or shortened with an ellipsis.
func TestLayoutAxisValuesAndLabels(t *testing.T) {
	for name, b := range charts() {
		t.Run(name, func(t *testing.T) {
			l, err := b.Layout()
			if err != nil {
				t.Fatal(err)
			}
			if l.Ticks[0] != 0 || l.Ticks[len(l.Ticks)-1] != b.Max {
				t.Errorf("ticks %v, want 0 to %v", l.Ticks, b.Max)
			}
			labels := make([]string, len(b.Labels))
			prevRowY := -1.0
			for _, a := range l.Boxes {
				switch a.Kind {
				case KindBar:
					v := b.Series[a.Series].Values[a.Row]
					if want := v / b.Max * l.Plot.W; math.Abs(a.W-want) > 0.01 || a.X != l.Plot.X {
						t.Errorf("bar of %v is %.1f wide from %.1f, want %.1f from %.1f", v, a.W, a.X, want, l.Plot.X)
					}
					if a.X+a.W > l.Plot.X+l.Plot.W+0.01 {
						t.Errorf("bar runs past Max")
					}
				case KindValue:
					v := b.Series[a.Series].Values[a.Row]
					if want := fmt.Sprintf("%g%s", v, b.Unit); a.Text != want {
						t.Errorf("value %q, want %q", a.Text, want)
					}
					if end := l.Plot.X + v/b.Max*l.Plot.W; a.X < end || a.X > end+5 {
						t.Errorf("value %q at %.1f, bar ends at %.1f", a.Text, a.X, end)
					}
				case KindLabel:
					if a.Y < prevRowY-0.01 {
						t.Errorf("label %q of row %d drawn above the row before", a.Text, a.Row)
					}
					prevRowY = a.Y
					labels[a.Row] += a.Text
				case KindMark:
					if want := b.Marks[a.Row]; a.Text != want && !strings.HasSuffix(a.Text, ellipsis) {
						t.Errorf("mark %q for %q", a.Text, want)
					}
				}
			}
			for i, got := range labels {
				want := b.Labels[i]
				if got != want && !(strings.HasSuffix(got, ellipsis) && strings.HasPrefix(want, strings.TrimSuffix(got, ellipsis))) {
					t.Errorf("row %d label %q, want %q or a prefix of it ending in …", i, got, want)
				}
			}
		})
	}
	l, _ := charts()["long names"].Layout()
	lines := 0
	for _, a := range l.Boxes {
		if a.Kind == KindLabel && a.Row == 0 {
			lines++
		}
	}
	if lines != 2 {
		t.Errorf("a long name takes %d lines, want 2", lines)
	}
}

// The PNG is the declared size, every text box has ink in it, every bar
// is its series' colour, and nothing is drawn outside the boxes and the
// plot's grid (the margins are white).
func TestPNGDrawsTheLayout(t *testing.T) {
	for name, b := range charts() {
		t.Run(name, func(t *testing.T) {
			l, err := b.Layout()
			if err != nil {
				t.Fatal(err)
			}
			data, err := l.PNG()
			if err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			if got := img.Bounds(); got.Dx() != b.Width || got.Dy() != b.Height {
				t.Fatalf("size %v, want %d×%d", got, b.Width, b.Height)
			}
			for _, a := range l.Boxes {
				r := image.Rect(int(math.Floor(a.X)), int(math.Floor(a.Y)), int(math.Ceil(a.X+a.W)), int(math.Ceil(a.Y+a.H)))
				switch a.Kind {
				case KindBar, KindSwatch:
					if a.W < 2 || a.H < 2 {
						continue
					}
					c := img.At(int(a.X+a.W/2), int(a.Y+a.H/2))
					if !near(c, a.Color) {
						t.Errorf("%s of row %d series %d is %v at its centre, want %v", a.Kind, a.Row, a.Series, c, a.Color)
					}
				default:
					if inked(img, r) == 0 {
						t.Errorf("%s %q: no pixel drawn in %v", a.Kind, a.Text, r)
					}
				}
			}
			// The outer margin stays blank: nothing is clipped at the edge.
			edge := int(margin / 2)
			for _, r := range []image.Rectangle{
				image.Rect(0, 0, b.Width, edge), image.Rect(0, b.Height-edge, b.Width, b.Height),
				image.Rect(0, 0, edge, b.Height), image.Rect(b.Width-edge, 0, b.Width, b.Height),
			} {
				if n := inked(img, r); n > 0 {
					t.Errorf("%d pixels drawn in the margin %v", n, r)
				}
			}
			if p := os.Getenv("CHART_OUT"); p != "" {
				os.WriteFile(strings.ReplaceAll(p, "NAME", strings.ReplaceAll(name, " ", "-")), data, 0o644)
			}
		})
	}
}

func TestLayoutRefusesWhatCannotBeReadable(t *testing.T) {
	b := charts()["many units"]
	b.Height = 200
	if _, err := b.Layout(); err == nil {
		t.Error("20 rows fitted in 200 pixels")
	}
	b = charts()["three units"]
	b.Marks = b.Marks[:1]
	if _, err := b.Layout(); err == nil {
		t.Error("one mark for three rows accepted")
	}
	b = charts()["three units"]
	b.Labels = nil
	if _, err := b.Layout(); err == nil {
		t.Error("a chart without rows accepted")
	}
}

func TestFits(t *testing.T) {
	for s, want := range map[string]bool{"城关镇党委": true, "Finance 100%": true, "𠀀": false, "喆": false, ellipsis: true} {
		if got := Fits(s); got != want {
			t.Errorf("Fits(%q) = %v, want %v", s, got, want)
		}
	}
}

// inked counts the pixels in r that are not white.
func inked(img image.Image, r image.Rectangle) int {
	n := 0
	r = r.Intersect(img.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if cr, cg, cb, _ := img.At(x, y).RGBA(); cr < 0xf000 || cg < 0xf000 || cb < 0xf000 {
				n++
			}
		}
	}
	return n
}

func near(a, b color.Color) bool {
	ar, ag, ab, _ := a.RGBA()
	br, bg, bb, _ := b.RGBA()
	d := func(x, y uint32) bool { return max(x, y)-min(x, y) < 0x0400 }
	return d(ar, br) && d(ag, bg) && d(ab, bb)
}
