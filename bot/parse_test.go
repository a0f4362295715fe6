package bot

import (
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestTokenize(t *testing.T) {
	cases := []struct {
		name  string
		in    string
		words []string
		opts  map[string]string
	}{
		{"plain words", "clue list mine", []string{"clue", "list", "mine"}, map[string]string{}},
		{"ascii quotes", `clue transfer "违规 发放补贴" x`, []string{"clue", "transfer", "违规 发放补贴", "x"}, map[string]string{}},
		{"chinese quotes", "线索 移送 “区财政局 党组” 第二室", []string{"线索", "移送", "区财政局 党组", "第二室"}, map[string]string{}},
		{"corner brackets", "会签 新建 「公务用车」", []string{"会签", "新建", "公务用车"}, map[string]string{}},
		{"options ascii and chinese colon", "clue list status:open 期限：12-31", []string{"clue", "list"}, map[string]string{"status": "open", "期限": "12-31"}},
		{"quoted option value", `x title:"a b" c`, []string{"x", "c"}, map[string]string{"title": "a b"}},
		{"time is not an option", "meeting move HY-2026-0001 09:30", []string{"meeting", "move", "HY-2026-0001", "09:30"}, map[string]string{}},
		{"quoted colon is a word", `x "a:b"`, []string{"x", "a:b"}, map[string]string{}},
		{"unterminated quote takes the rest", `x "a b`, []string{"x", "a b"}, map[string]string{}},
		{"full-width spaces", "线索\u3000列表", []string{"线索", "列表"}, map[string]string{}},
		{"option keys lower-cased", "x Deadline:+7d", []string{"x"}, map[string]string{"deadline": "+7d"}},
		{"url stays a word", "x http://a.b/c", []string{"x", "http://a.b/c"}, map[string]string{"http": "//a.b/c"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ln := Tokenize(CleanLine(tc.in))
			if tc.name == "url stays a word" {
				// A bare URL looks like key:value; documenting that users quote
				// URLs. The tokenizer must still not lose the text.
				if ln.Options["http"] != "//a.b/c" {
					t.Fatalf("url option: %#v", ln)
				}
				return
			}
			if !reflect.DeepEqual(ln.Words, tc.words) {
				t.Errorf("words = %q, want %q", ln.Words, tc.words)
			}
			if !reflect.DeepEqual(ln.Options, tc.opts) {
				t.Errorf("options = %q, want %q", ln.Options, tc.opts)
			}
		})
	}
}

func TestCleanLine(t *testing.T) {
	cases := map[string]string{
		"/clue list":           "clue list",
		"  ／线索 列表 ":            "线索 列表",
		"\u200bhelp\u00a0clue": "help clue",
		"\x00\x01":             "",
		"\xff\xfehelp":         "\uFFFDhelp",
	}
	for in, want := range cases {
		if got := CleanLine(in); got != want {
			t.Errorf("CleanLine(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseDate(t *testing.T) {
	sh, _ := time.LoadLocation("Asia/Shanghai")
	// 2026-11-28 23:30 in Shanghai is 15:30 UTC: the date must come from
	// Shanghai, not from the server's zone.
	now := time.Date(2026, 11, 28, 15, 30, 0, 0, time.UTC)
	d := func(y, m, day int) time.Time { return time.Date(y, time.Month(m), day, 0, 0, 0, 0, sh) }
	cases := []struct {
		in   string
		want time.Time
	}{
		{"2026-12-31", d(2026, 12, 31)},
		{"2026/1/5", d(2026, 1, 5)},
		{"20270105", d(2027, 1, 5)},
		{"2026年12月31日", d(2026, 12, 31)},
		{"12-31", d(2026, 12, 31)},
		{"12月31日", d(2026, 12, 31)},
		{"12月31号", d(2026, 12, 31)},
		{"11-28", d(2026, 11, 28)},
		{"+7d", d(2026, 12, 5)},
		{"+7", d(2026, 12, 5)},
		{"+2w", d(2026, 12, 12)},
		{"+1m", d(2026, 12, 28)},
		{"+3天", d(2026, 12, 1)},
		{"今天", d(2026, 11, 28)},
		{"tomorrow", d(2026, 11, 29)},
		{"后天", d(2026, 11, 30)},
		{"2-29", d(2028, 2, 29)}, // next leap year
	}
	for _, tc := range cases {
		got, err := ParseDate(tc.in, now, sh)
		if err != nil {
			t.Errorf("ParseDate(%q): %v", tc.in, err)
			continue
		}
		if !got.Equal(tc.want) {
			t.Errorf("ParseDate(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
	if _, err := ParseDate("1-15", now, sh); ErrorCode(err) != EINVALID {
		t.Errorf("ParseDate(1-15) on 11-28: %v, want the ambiguous-date refusal", err)
	}
	for _, bad := range []string{"", "2026-02-30", "13-01", "12-32", "yesterday-ish", "+", "2026-12", "1999-01-01", "0-0", strings.Repeat("9", 100), "2026年13月1日"} {
		_, err := ParseDate(bad, now, sh)
		if ErrorCode(err) != EINVALID {
			t.Errorf("ParseDate(%q) error = %v, want EINVALID", bad, err)
		}
	}
}

func TestAddMonthsClamped(t *testing.T) {
	jan31 := time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC)
	if got := addMonthsClamped(jan31, 1); got.Day() != 28 || got.Month() != 2 {
		t.Errorf("Jan 31 + 1 month = %v, want Feb 28", got)
	}
}

func FuzzTokenize(f *testing.F) {
	for _, s := range []string{"clue list", `"a`, "“x”", "a:b:c", "：：", "x 期限:\"", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ln := Tokenize(CleanLine(s))
		// In characters: CleanLine turns each invalid byte into U+FFFD,
		// three bytes long.
		for _, w := range ln.Words {
			if utf8.RuneCountInString(w) > utf8.RuneCountInString(s) {
				t.Fatalf("word longer than input: %q from %q", w, s)
			}
		}
		for _, tk := range ln.Tokens {
			if utf8.RuneCountInString(tk.Raw) > utf8.RuneCountInString(s) {
				t.Fatalf("token longer than input: %q from %q", tk.Raw, s)
			}
		}
	})
}

func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2026-12-31", "12-31", "+7d", "12月31日", "+9999m", "2026年2月30日"} {
		f.Add(s)
	}
	sh, _ := time.LoadLocation("Asia/Shanghai")
	now := time.Date(2026, 11, 28, 1, 0, 0, 0, sh)
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDate(s, now, sh)
		if err == nil && (d.Year() < 2000 || d.Year() > 2200) {
			t.Fatalf("ParseDate(%q) = %v: out of range", s, d)
		}
	})
}

func TestTokenizeReportsUnbalancedQuotes(t *testing.T) {
	cases := map[string]rune{
		`x "a b`:           '"',
		`x "标题 "内容"`:       '"',
		`x 内容"`:            '"',
		`x “标题” 内容”`:       '”',
		`x 「标题`:            '「',
		`x t:"a b`:         '"',
		`x "a b" c`:        0,
		`x 关于“三公”经费`:       0,
		`x don't 'quoted'`: 0,
		`x t:"a b" 「c」`:    0,
	}
	for in, want := range cases {
		if got := Tokenize(CleanLine(in)).Unbalanced; got != want {
			t.Errorf("Tokenize(%q).Unbalanced = %q, want %q", in, got, want)
		}
	}
}

func TestSplitKnownOptionsAndDuplicates(t *testing.T) {
	ln := Tokenize(`会签 退回 QZ-2026-0001 原因：台账未补齐 代表：第一巡察组 "备注:x"`)
	words, opts, dups := ln.Split(2, []string{"as", "代表"})
	if want := []string{"QZ-2026-0001", "原因：台账未补齐", "备注:x"}; !reflect.DeepEqual(words, want) {
		t.Errorf("words = %q, want %q", words, want)
	}
	if want := map[string]string{"代表": "第一巡察组"}; !reflect.DeepEqual(opts, want) || dups != nil {
		t.Errorf("options = %q dups %q, want %q", opts, dups, want)
	}
	_, opts, dups = Tokenize("x 期限:12-01 期限：12-03 k:v").Split(1, nil)
	if !reflect.DeepEqual(dups, []string{"期限"}) || opts["k"] != "v" {
		t.Errorf("options %q, duplicates %q, want 期限 reported", opts, dups)
	}
}
