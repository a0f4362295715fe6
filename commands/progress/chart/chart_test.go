package chart

import (
	"bytes"
	"image/color"
	"image/png"
	"os"
	"testing"
)

func TestBarsPNGHasTheRequestedSize(t *testing.T) {
	b := Bars{
		Title: "各单位整改完成情况（2026年12月）", XLabel: "%", Max: 100, Unit: "%", Width: 1200, Height: 700,
		Labels: []string{"区财政局党组", "区住建局党组", "城关镇党委"},
		Series: []Series{
			{Name: "完成率", Values: []float64{33, 0, 100}, Color: color.RGBA{0x2b, 0x6c, 0xb0, 0xff}},
			{Name: "平均进度", Values: []float64{53, 10, 100}, Color: color.RGBA{0xf0, 0x8c, 0x2a, 0xff}},
		},
	}
	data, err := b.PNG()
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if got := img.Bounds(); got.Dx() != 1200 || got.Dy() != 700 {
		t.Errorf("size %v, want 1200×700", got)
	}
	if p := os.Getenv("CHART_OUT"); p != "" {
		os.WriteFile(p, data, 0o644)
	}
}

func TestFits(t *testing.T) {
	for s, want := range map[string]bool{"城关镇党委": true, "Finance 100%": true, "𠀀": false, "喆": false} {
		if got := Fits(s); got != want {
			t.Errorf("Fits(%q) = %v, want %v", s, got, want)
		}
	}
}
