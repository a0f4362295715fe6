// Package chart draws the rectification-progress charts as PNG with
// gonum.org/v1/plot. Chinese text renders with an embedded subset of Noto
// Sans CJK SC (SIL Open Font License 1.1, see fonts/OFL.txt) that holds
// ASCII and the 7,000-odd GB 2312 characters; Fits tells whether a label
// can be drawn, so callers can fall back to an id for rarer characters.
package chart

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"image/color"
	"sync"

	"golang.org/x/image/font/opentype"
	"golang.org/x/image/font/sfnt"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

//go:embed fonts/NotoSansSC-GB2312.otf
var cjkData []byte

// typeface is the name the embedded font is registered under.
const typeface font.Typeface = "XunjiNotoSansSC"

// dpi of the PNG; sizes are given in pixels.
const dpi = 96

var (
	loadOnce sync.Once
	cjk      *opentype.Font
	loadErr  error
)

func load() (*opentype.Font, error) {
	loadOnce.Do(func() {
		cjk, loadErr = opentype.Parse(cjkData)
		if loadErr == nil {
			font.DefaultCache.Add(font.Collection{{Font: font.Font{Typeface: typeface}, Face: cjk}})
		}
	})
	return cjk, loadErr
}

// Fits reports whether every character of s has a glyph in the embedded
// font.
func Fits(s string) bool {
	f, err := load()
	if err != nil {
		return false
	}
	var buf sfnt.Buffer
	for _, r := range s {
		if r == ' ' {
			continue
		}
		if gi, err := f.GlyphIndex(&buf, r); err != nil || gi == 0 {
			return false
		}
	}
	return true
}

// Series is one set of bars, one value per label.
type Series struct {
	Name   string
	Values []float64
	Color  color.Color
}

// Bars describes a horizontal grouped bar chart: one row per label, one
// bar per series in each row.
type Bars struct {
	Title  string
	XLabel string
	Labels []string // row labels, top to bottom
	Series []Series
	Max    float64 // the value axis runs from 0 to Max (100 for percentages)
	Unit   string  // appended to the value printed at each bar's end, e.g. "%"
	Width  int     // pixels
	Height int     // pixels
}

// PNG draws b and returns the PNG bytes of exactly Width × Height pixels.
func (b Bars) PNG() ([]byte, error) {
	if _, err := load(); err != nil {
		return nil, fmt.Errorf("chart: font: %w", err)
	}
	if b.Width <= 0 || b.Height <= 0 {
		return nil, errors.New("chart: width and height must be positive")
	}
	if len(b.Labels) == 0 || len(b.Series) == 0 {
		return nil, errors.New("chart: nothing to draw")
	}
	for _, s := range b.Series {
		if len(s.Values) != len(b.Labels) {
			return nil, fmt.Errorf("chart: series %q has %d values for %d labels", s.Name, len(s.Values), len(b.Labels))
		}
	}
	p := plot.New()
	setFonts(p)
	p.Title.Text = b.Title
	p.Title.TextStyle.Font.Size = vg.Points(16)
	p.X.Label.Text = b.XLabel
	// Room on the right for the values printed past the longest bar and
	// for the legend; ticks stop at Max.
	p.X.Min, p.X.Max = 0, b.Max*1.22
	p.X.Tick.Marker = ticks{max: b.Max}
	p.Legend.Top = true
	p.Legend.Left = false
	p.Legend.XOffs = 0
	p.Add(plotter.NewGrid())

	n := len(b.Labels)
	rows := make([]string, n)
	// gonum draws the first nominal value at the bottom; people read
	// rankings from the top.
	for i, l := range b.Labels {
		rows[n-1-i] = l
	}
	p.NominalY(rows...)

	p.Y.Min, p.Y.Max = -0.5, float64(n)-0.5
	// The plot area is the canvas less the title and the value axis.
	area := float64(b.Height)*72/dpi - 80
	group := vg.Points(max(area, 40) * 0.7 / float64(n))
	barW := group / vg.Length(len(b.Series))
	for si, s := range b.Series {
		vals := make(plotter.Values, n)
		for i, v := range s.Values {
			vals[n-1-i] = v
		}
		bc, err := plotter.NewBarChart(vals, barW)
		if err != nil {
			return nil, fmt.Errorf("chart: %w", err)
		}
		bc.Horizontal = true
		bc.Color = s.Color
		bc.LineStyle.Width = 0
		// Series are stacked top to bottom within a row.
		bc.Offset = group/2 - barW*vg.Length(si) - barW/2
		p.Add(bc)
		p.Legend.Add(s.Name, bc)

		var xys plotter.XYLabels
		for i, v := range vals {
			xys.XYs = append(xys.XYs, plotter.XY{X: v, Y: float64(i)})
			xys.Labels = append(xys.Labels, fmt.Sprintf(" %g%s", v, b.Unit))
		}
		labels, err := plotter.NewLabels(xys)
		if err != nil {
			return nil, fmt.Errorf("chart: %w", err)
		}
		for i := range labels.TextStyle {
			labels.TextStyle[i].Font = font.Font{Typeface: typeface, Size: vg.Points(10)}
			labels.TextStyle[i].YAlign = draw.YCenter
		}
		labels.Offset = vg.Point{Y: bc.Offset}
		p.Add(labels)
	}

	w := vg.Length(b.Width) * vg.Inch / dpi
	h := vg.Length(b.Height) * vg.Inch / dpi
	c := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(dpi), vgimg.UseBackgroundColor(color.White))
	p.Draw(draw.New(c))
	var out bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(&out); err != nil {
		return nil, fmt.Errorf("chart: png: %w", err)
	}
	return out.Bytes(), nil
}

// setFonts makes every text of p use the embedded CJK font.
func setFonts(p *plot.Plot) {
	f := func(size float64) font.Font { return font.Font{Typeface: typeface, Size: vg.Points(size)} }
	p.Title.TextStyle.Font = f(14)
	p.X.Label.TextStyle.Font = f(12)
	p.Y.Label.TextStyle.Font = f(12)
	p.X.Tick.Label.Font = f(11)
	p.Y.Tick.Label.Font = f(12)
	p.Legend.TextStyle.Font = f(12)
}

// ticks marks the value axis at fifths of max, and no further.
type ticks struct{ max float64 }

func (t ticks) Ticks(_, _ float64) []plot.Tick {
	var out []plot.Tick
	for i := 0; i <= 10; i++ {
		v := t.max * float64(i) / 10
		tk := plot.Tick{Value: v}
		if i%2 == 0 {
			tk.Label = fmt.Sprintf("%g", v)
		}
		out = append(out, tk)
	}
	return out
}
