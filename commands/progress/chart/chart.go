// Package chart draws the rectification-progress charts as PNG with
// gonum.org/v1/plot's vector canvas (vg, vgimg). Chinese text renders with
// an embedded subset of Noto Sans CJK SC (SIL Open Font License 1.1, see
// fonts/OFL.txt) that holds ASCII and the 7,000-odd GB 2312 characters;
// Fits tells whether a label can be drawn, so callers can fall back to an
// id for rarer characters.
//
// The chart is laid out here, box by box, rather than by plot.Plot: a
// notice is printed, so every text must be inside the page and clear of
// every bar and other text, and plot.Plot neither guarantees that (its
// legend and value labels were clipped and hidden) nor says where it put
// things. Layout returns each box drawn, so tests can check exactly that.
package chart

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"image/color"
	"strconv"
	"sync"

	xfont "golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
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
// bar per series in each row, each bar with its value printed at its end,
// and an optional mark per row at the right (逾期/未报送).
type Bars struct {
	Title  string
	AsOf   string // a line under the title, e.g. "数据截至 2026-12-10 10:00"; may be empty
	XLabel string // under the value axis; may be empty
	Labels []string
	// Marks, when set, has one text per label, printed in red at the
	// right of its row; "" for none.
	Marks  []string
	Series []Series
	Max    float64 // the value axis runs from 0 to Max (100 for percentages)
	Unit   string  // appended to the values and ticks, e.g. "%"
	Width  int     // pixels
	Height int     // pixels
}

// Kind names what a Box is.
type Kind string

// The kinds of boxes in a Layout.
const (
	KindTitle  Kind = "title"
	KindAsOf   Kind = "asof"
	KindSwatch Kind = "swatch" // a legend's colour square
	KindLegend Kind = "legend" // a legend's text
	KindLabel  Kind = "label"  // one line of a row label
	KindBar    Kind = "bar"
	KindValue  Kind = "value" // a bar's value
	KindMark   Kind = "mark"
	KindTick   Kind = "tick" // a value axis label
	KindAxis   Kind = "axis" // the value axis title
)

// Box is one thing drawn, in pixels from the canvas's top-left corner.
// A text box is the ink bounds of its glyphs, as the font's outlines give
// them (not the looser line metrics), so boxes can sit close without any
// glyph crossing another box.
type Box struct {
	Kind       Kind
	Row        int // the row of a label, bar, value or mark; -1 otherwise
	Series     int // the series of a bar, value, swatch or legend; -1 otherwise
	Text       string
	X, Y, W, H float64
	Color      color.Color

	size   vg.Length // font size of a text box
	ox, oy float64   // where a text box's baseline starts
}

// at moves the box so its top-left corner is at (x, y).
func (a Box) at(x, y float64) Box {
	a.ox += x - a.X
	a.oy += y - a.Y
	a.X, a.Y = x, y
	return a
}

// Overlaps reports whether a and b share any area (touching edges do
// not count).
func (a Box) Overlaps(b Box) bool {
	const eps = 0.01
	return a.X+eps < b.X+b.W && b.X+eps < a.X+a.W && a.Y+eps < b.Y+b.H && b.Y+eps < a.Y+a.H
}

// Inside reports whether a lies within a w × h canvas.
func (a Box) Inside(w, h int) bool {
	return a.X >= 0 && a.Y >= 0 && a.X+a.W <= float64(w) && a.Y+a.H <= float64(h)
}

// IsText reports whether the box holds text.
func (a Box) IsText() bool { return a.Kind != KindBar && a.Kind != KindSwatch }

// Layout is where everything of a chart goes.
type Layout struct {
	Width, Height int
	// Plot is the value axis's area: its left edge is 0, its right edge
	// Max; rows stack from its top to its bottom.
	Plot  Box
	Ticks []float64 // the values the axis marks
	Boxes []Box
}

// Sizes, in pixels unless named points.
const (
	margin     = 12.0
	gap        = 6.0
	swatchSize = 11.0
	minRowFont = 6.0 // points; below this a value is not readable
	maxBar     = 28.0
)

var (
	textColor  = color.RGBA{0x22, 0x22, 0x22, 0xff}
	mutedColor = color.RGBA{0x55, 0x55, 0x55, 0xff}
	markColor  = color.RGBA{0xc0, 0x39, 0x2b, 0xff}
	gridColor  = color.RGBA{0xdd, 0xdd, 0xdd, 0xff}
	axisColor  = color.RGBA{0x88, 0x88, 0x88, 0xff}
)

func px(l vg.Length) float64   { return float64(l) * dpi / 72 }
func toPt(p float64) vg.Length { return vg.Length(p * 72 / dpi) }
func face(size vg.Length) font.Face {
	return font.DefaultCache.Lookup(font.Font{Typeface: typeface}, size)
}

// text makes a text box at (x, y) for s at size.
func text(kind Kind, s string, size vg.Length, x, y float64, c color.Color) Box {
	x0, y0, x1, y1 := ink(s, size)
	b := Box{Kind: kind, Row: -1, Series: -1, Text: s, W: x1 - x0, H: y1 - y0, Color: c, size: size, ox: -x0, oy: -y0}
	return b.at(x, y)
}

// ink returns the ink bounds of s drawn at size from the origin, in
// pixels, y down.
func ink(s string, size vg.Length) (x0, y0, x1, y1 float64) {
	f := face(size)
	ff := f.FontFace(dpi)
	defer ff.Close()
	r, _ := xfont.BoundString(ff, s)
	fx := func(v fixed.Int26_6) float64 { return float64(v) / 64 }
	return fx(r.Min.X), fx(r.Min.Y), fx(r.Max.X), fx(r.Max.Y)
}

// width is the ink width of s at size.
func width(s string, size vg.Length) float64 {
	x0, _, x1, _ := ink(s, size)
	return x1 - x0
}

// lineHeight is the distance between two lines of text at size.
func lineHeight(size vg.Length) float64 { return px(size) * 1.25 }

// inkHeight is the height of the tallest glyphs of s at size.
func inkHeight(s string, size vg.Length) float64 {
	_, y0, _, y1 := ink(s, size)
	return y1 - y0
}

// ellipsis ends a shortened text.
const ellipsis = "…"

// truncate shortens s until it fits w at size, ending it with an
// ellipsis; "" when not even that fits.
func truncate(s string, w float64, size vg.Length) string {
	if width(s, size) <= w {
		return s
	}
	r := []rune(s)
	for n := len(r) - 1; n > 0; n-- {
		if t := string(r[:n]) + ellipsis; width(t, size) <= w {
			return t
		}
	}
	return ""
}

// fit returns the largest size from want down to least (in half points)
// at which s fits w, and s itself; at least, s shortened to fit.
func fit(s string, w float64, want, least vg.Length) (string, vg.Length) {
	for size := want; size >= least; size -= 0.5 {
		if width(s, size) <= w {
			return s, size
		}
	}
	return truncate(s, w, least), least
}

// wrap breaks s into at most lines lines of width w at size, the last one
// shortened with an ellipsis if s does not fit.
func wrap(s string, w float64, size vg.Length, lines int) []string {
	var out []string
	r := []rune(s)
	for len(r) > 0 && len(out) < lines-1 {
		if width(string(r), size) <= w {
			break
		}
		n := len(r)
		for n > 1 && width(string(r[:n]), size) > w {
			n--
		}
		out = append(out, string(r[:n]))
		r = r[n:]
	}
	if len(r) > 0 {
		out = append(out, truncate(string(r), w, size))
	}
	return out
}

// Layout places every part of b on its canvas.
func (b Bars) Layout() (*Layout, error) {
	if err := b.check(); err != nil {
		return nil, err
	}
	p := &placer{b: b, W: float64(b.Width), H: float64(b.Height), l: &Layout{Width: b.Width, Height: b.Height}}
	p.inner = p.W - 2*margin
	p.header()
	p.footer()
	if err := p.bands(); err != nil {
		return nil, err
	}
	p.rowLabels()
	p.rowMarks()
	if err := p.columns(); err != nil {
		return nil, err
	}
	for i := range b.Labels {
		p.row(i)
	}
	p.ticks()
	p.axisTitle()
	return p.l, nil
}

// check refuses what cannot be drawn.
func (b Bars) check() error {
	if _, err := load(); err != nil {
		return fmt.Errorf("chart: font: %w", err)
	}
	if b.Width <= 0 || b.Height <= 0 {
		return errors.New("chart: width and height must be positive")
	}
	if len(b.Labels) == 0 || len(b.Series) == 0 {
		return errors.New("chart: nothing to draw")
	}
	if b.Max <= 0 {
		return errors.New("chart: Max must be positive")
	}
	for _, s := range b.Series {
		if len(s.Values) != len(b.Labels) {
			return fmt.Errorf("chart: series %q has %d values for %d labels", s.Name, len(s.Values), len(b.Labels))
		}
	}
	if b.Marks != nil && len(b.Marks) != len(b.Labels) {
		return fmt.Errorf("chart: %d marks for %d labels", len(b.Marks), len(b.Labels))
	}
	return nil
}

// valueText is how a value is printed: the number and the unit.
func (b Bars) valueText(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) + b.Unit }

// placer is Layout at work: the canvas, what is placed so far, and the
// measures each step leaves to the next, top to bottom, then left to
// right.
type placer struct {
	b     Bars
	l     *Layout
	W, H  float64
	inner float64 // the canvas width within the margins

	plotTop, plotBottom float64
	axis                *Box // the axis title, placed at the end
	tickSize            vg.Length

	rowH, barT float64   // the height of a row, the thickness of a bar
	valueSize  vg.Length // the font of the values beside the bars

	labelSize  vg.Length
	lh         float64 // the line height of the row labels
	labelLines [][]string
	labelW     float64

	markSize vg.Length
	marks    []string
	markW    float64

	x0, plotRight, barsW, scale float64
}

func (p *placer) add(bx Box) { p.l.Boxes = append(p.l.Boxes, bx) }

// header places the top: the title, centred; the as-of line; the
// legend. The plot starts below them.
func (p *placer) header() {
	y := margin
	if p.b.Title != "" {
		s, size := fit(p.b.Title, p.inner, 15, 8)
		t := text(KindTitle, s, size, 0, 0, textColor)
		p.add(t.at((p.W-t.W)/2, y))
		y += lineHeight(size)
	}
	if p.b.AsOf != "" {
		s, size := fit(p.b.AsOf, p.inner, 10, 7)
		t := text(KindAsOf, s, size, 0, 0, mutedColor)
		p.add(t.at((p.W-t.W)/2, y))
		y += lineHeight(size)
	}
	p.plotTop = p.legend(y + gap/2)
}

// legend places a swatch and the name of each series from y on, on as
// many lines as they need, and returns the y below it.
func (p *placer) legend(y float64) float64 {
	size := vg.Length(10)
	lh := max(lineHeight(size), swatchSize)
	x := margin
	for i, s := range p.b.Series {
		name, _ := fit(s.Name, p.inner-swatchSize-4, size, size)
		t := text(KindLegend, name, size, 0, 0, textColor)
		w := swatchSize + 4 + t.W
		if x > margin && x+w > p.W-margin {
			x, y = margin, y+lh+2
		}
		p.add(Box{Kind: KindSwatch, Row: -1, Series: i, X: x, Y: y + (lh-swatchSize)/2, W: swatchSize, H: swatchSize, Color: s.Color})
		t.Series = i
		p.add(t.at(x+swatchSize+4, y+(lh-t.H)/2))
		x += w + 3*gap
	}
	return y + lh + gap
}

// footer measures the bottom: the axis title, then the tick labels
// above it. The plot ends above them.
func (p *placer) footer() {
	bottom := p.H - margin
	if p.b.XLabel != "" {
		s, size := fit(p.b.XLabel, p.inner, 10, 7)
		t := text(KindAxis, s, size, 0, 0, mutedColor)
		t = t.at(0, bottom-t.H)
		p.axis = &t
		bottom = t.Y - 4
	}
	p.tickSize = vg.Length(9)
	p.plotBottom = bottom - inkHeight(p.b.valueText(p.b.Max), p.tickSize) - 4
}

// bands divides the plot's height into rows and their bars, and picks
// the font of the values.
func (p *placer) bands() error {
	n := len(p.b.Labels)
	p.rowH = (p.plotBottom - p.plotTop) / float64(n)
	// Bars are at most maxBar thick, so a chart of few rows does not
	// turn into blocks.
	p.barT = min(p.rowH*0.8/float64(len(p.b.Series)), maxBar)
	// A value is printed within its own bar's band, so it never lies on
	// the other series; its font follows the band.
	p.valueSize = vg.Length(10)
	for p.valueSize >= minRowFont && inkHeight(p.b.valueText(p.b.Max), p.valueSize) > p.barT-2 {
		p.valueSize -= 0.5
	}
	if p.valueSize < minRowFont {
		return fmt.Errorf("chart: %d rows of %d bars do not fit in %d pixels of height", n, len(p.b.Series), p.b.Height)
	}
	return nil
}

// rowLabels measures the left: the row labels, on up to two lines, as
// wide as the longest but no more than three tenths of the canvas.
func (p *placer) rowLabels() {
	p.labelSize = vg.Length(11)
	for p.labelSize > minRowFont && lineHeight(p.labelSize) > p.rowH {
		p.labelSize -= 0.5
	}
	p.lh = lineHeight(p.labelSize)
	lines := max(1, min(2, int(p.rowH/p.lh)))
	labelMax := p.W * 0.3
	p.labelLines = make([][]string, len(p.b.Labels))
	for i, s := range p.b.Labels {
		p.labelLines[i] = wrap(s, labelMax, p.labelSize, lines)
		for _, ln := range p.labelLines[i] {
			p.labelW = max(p.labelW, width(ln, p.labelSize))
		}
	}
}

// rowMarks measures the right: the marks, as wide as the longest but no
// more than a quarter of the canvas: the font shrinks to 7 points before
// a mark is shortened.
func (p *placer) rowMarks() {
	p.markSize = min(vg.Length(10), p.labelSize)
	markMax := p.W * 0.25
	for _, m := range p.b.Marks {
		if m != "" {
			_, size := fit(m, markMax, p.markSize, min(7, p.markSize))
			p.markSize = min(p.markSize, size)
		}
	}
	p.marks = make([]string, len(p.b.Labels))
	for i := range p.marks {
		if p.b.Marks != nil && p.b.Marks[i] != "" {
			p.marks[i] = truncate(p.b.Marks[i], markMax, p.markSize)
			p.markW = max(p.markW, width(p.marks[i], p.markSize))
		}
	}
}

// columns divides the width between the labels, the bars with their
// values, and the marks, and sets the plot's box.
func (p *placer) columns() error {
	p.x0 = margin + p.labelW + gap
	p.plotRight = p.W - margin
	if p.markW > 0 {
		p.plotRight -= p.markW + gap
	}
	valueZone := width(p.b.valueText(p.b.Max), p.valueSize) + 6
	p.barsW = p.plotRight - p.x0 - valueZone
	if p.barsW < 40 {
		return fmt.Errorf("chart: %d pixels of width leave no room for the bars", p.b.Width)
	}
	p.scale = p.barsW / p.b.Max
	p.l.Plot = Box{Kind: "plot", Row: -1, Series: -1, X: p.x0, Y: p.plotTop, W: p.barsW, H: p.plotBottom - p.plotTop}
	return nil
}

// row places row i: its label lines, a bar and a value per series, and
// its mark.
func (p *placer) row(i int) {
	top := p.plotTop + float64(i)*p.rowH
	em := px(p.labelSize)
	first := top + (p.rowH-p.lh*float64(len(p.labelLines[i])))/2
	for j, ln := range p.labelLines[i] {
		t := text(KindLabel, ln, p.labelSize, 0, 0, textColor)
		// Lines share a baseline grid, whatever their glyphs.
		baseline := first + float64(j)*p.lh + (p.lh-em)/2 + em*0.88
		t = t.at(p.x0-gap-t.W, t.Y+baseline-t.oy)
		t.Row = i
		p.add(t)
	}
	band := top + (p.rowH-p.barT*float64(len(p.b.Series)))/2
	for si, s := range p.b.Series {
		v := min(max(s.Values[i], 0), p.b.Max)
		bt := band + float64(si)*p.barT
		if w := v * p.scale; w > 0 {
			p.add(Box{Kind: KindBar, Row: i, Series: si, X: p.x0, Y: bt + 0.5, W: w, H: p.barT - 1, Color: s.Color})
		}
		t := text(KindValue, p.b.valueText(s.Values[i]), p.valueSize, 0, 0, textColor)
		t = t.at(p.x0+v*p.scale+3, bt+(p.barT-t.H)/2)
		t.Row, t.Series = i, si
		p.add(t)
	}
	if p.marks[i] != "" {
		t := text(KindMark, p.marks[i], p.markSize, 0, 0, markColor)
		t = t.at(p.plotRight+gap, top+(p.rowH-t.H)/2)
		t.Row = i
		p.add(t)
	}
}

// ticks places the ticks: fifths of Max, or halves, or the ends,
// whichever leave room between their labels.
func (p *placer) ticks() {
	tickW := width(p.b.valueText(p.b.Max), p.tickSize)
	for _, parts := range []int{5, 2, 1} {
		if p.barsW/float64(parts) >= tickW+gap || parts == 1 {
			for k := 0; k <= parts; k++ {
				v := p.b.Max * float64(k) / float64(parts)
				p.l.Ticks = append(p.l.Ticks, v)
				t := text(KindTick, p.b.valueText(v), p.tickSize, 0, 0, mutedColor)
				p.add(t.at(p.x0+v*p.scale-t.W/2, p.plotBottom+4))
			}
			return
		}
	}
}

// axisTitle places the axis title under the bars, or centred on the
// canvas when it would not fit there.
func (p *placer) axisTitle() {
	if p.axis == nil {
		return
	}
	x := p.x0 + (p.barsW-p.axis.W)/2
	if x < margin || x+p.axis.W > p.W-margin {
		x = (p.W - p.axis.W) / 2
	}
	p.add(p.axis.at(x, p.axis.Y))
}

// PNG draws b and returns the PNG bytes of exactly Width × Height pixels.
func (b Bars) PNG() ([]byte, error) {
	l, err := b.Layout()
	if err != nil {
		return nil, err
	}
	return l.PNG()
}

// PNG draws the layout.
func (l *Layout) PNG() ([]byte, error) {
	w := vg.Length(l.Width) * vg.Inch / dpi
	h := vg.Length(l.Height) * vg.Inch / dpi
	c := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(dpi), vgimg.UseBackgroundColor(color.White))
	H := float64(l.Height)
	pt := func(x, y float64) vg.Point { return vg.Point{X: toPt(x), Y: toPt(H - y)} }
	line := func(x1, y1, x2, y2 float64, col color.Color) {
		var p vg.Path
		p.Move(pt(x1, y1))
		p.Line(pt(x2, y2))
		c.SetColor(col)
		c.SetLineWidth(toPt(1))
		c.Stroke(p)
	}
	p := l.Plot
	for _, v := range l.Ticks {
		x := p.X + v/l.Ticks[len(l.Ticks)-1]*p.W
		line(x, p.Y, x, p.Y+p.H, gridColor)
	}
	line(p.X, p.Y, p.X, p.Y+p.H, axisColor)
	line(p.X, p.Y+p.H, p.X+p.W, p.Y+p.H, axisColor)
	for _, bx := range l.Boxes {
		if bx.IsText() {
			c.SetColor(bx.Color)
			c.FillString(face(bx.size), pt(bx.ox, bx.oy), bx.Text)
			continue
		}
		var r vg.Path
		r.Move(pt(bx.X, bx.Y))
		r.Line(pt(bx.X+bx.W, bx.Y))
		r.Line(pt(bx.X+bx.W, bx.Y+bx.H))
		r.Line(pt(bx.X, bx.Y+bx.H))
		r.Close()
		c.SetColor(bx.Color)
		c.Fill(r)
	}
	var out bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(&out); err != nil {
		return nil, fmt.Errorf("chart: png: %w", err)
	}
	return out.Bytes(), nil
}
