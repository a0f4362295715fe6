// Package console is the terminal adapter, xunji's zero-configuration
// default: you act as a roster member (switch with "as 名字"), type
// commands as you would in a chat — in the group, or in a private chat
// with the bot after "dm" (私聊; back with "group", 群聊) — and press a
// card's buttons by their number.
package console

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"unicode"

	"github.com/xunji-bot/xunji/bot"
)

// Adapter is the console adapter.
type Adapter struct {
	in   io.Reader
	out  io.Writer
	tr   bot.Translator
	lang string
	chat string
	dir  string

	mu      sync.Mutex
	as      string // console id of the person acting
	direct  bool   // typing in a private chat with the bot, not the group
	seq     int    // message numbers
	buttons []pressable
}

type pressable struct {
	b   bot.Button
	ref bot.MessageRef
}

var _ bot.Adapter = (*Adapter)(nil)

// Options configures the adapter.
type Options struct {
	In   io.Reader
	Out  io.Writer
	As   string         // console id (name) to act as at start
	Chat string         // the chat the typed commands come from
	Tr   bot.Translator // for the adapter's own prompts
	Lang string
	// FilesDir is where attachments are saved; "xunji-files" when empty.
	FilesDir string
}

// New returns a console adapter.
func New(o Options) *Adapter {
	if o.Chat == "" {
		o.Chat = "console"
	}
	if o.FilesDir == "" {
		o.FilesDir = "xunji-files"
	}
	return &Adapter{in: o.In, out: o.Out, tr: o.Tr, lang: o.Lang, as: o.As, chat: o.Chat, dir: o.FilesDir}
}

// Platform implements bot.Adapter.
func (a *Adapter) Platform() bot.Platform { return Name }

// Mention implements bot.Adapter.
func (a *Adapter) Mention(_, name string) string { return "@" + name }

// As returns the console id of the person acting.
func (a *Adapter) As() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.as
}

func (a *Adapter) t(key string, args ...any) string { return a.tr.T(a.lang, key, args...) }

// langer is what the console needs of the handler to answer in the
// acting person's language (lang en): the bot's LangOf.
type langer interface {
	LangOf(ctx context.Context, p *bot.Person) string
}

// langOf is the language of the person acting: their stored preference
// when the handler can tell it, else the adapter's.
func (a *Adapter) langOf(ctx context.Context, h bot.Handler) string {
	rs, ok := h.(rosterer)
	l, ok2 := h.(langer)
	if !ok || !ok2 {
		return a.lang
	}
	r, err := rs.Roster(ctx)
	if err != nil {
		return a.lang
	}
	p, ok := r.ByPlatformID(Name, a.As())
	if !ok {
		return a.lang
	}
	if lang := l.LangOf(ctx, p); lang != "" {
		return lang
	}
	return a.lang
}

// Run reads lines until EOF, "exit" or ctx is done. It returns nil at the
// end of input so the program can shut down.
func (a *Adapter) Run(ctx context.Context, h bot.Handler) error {
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(a.in)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
	}()
	a.printf("%s\n", a.tr.T(a.langOf(ctx, h), "console.welcome", "name", a.As()))
	a.prompt(a.langOf(ctx, h))
	for {
		select {
		case <-ctx.Done():
			return nil
		case line, ok := <-lines:
			if !ok {
				return nil
			}
			if quit := a.handleLine(ctx, h, line); quit {
				return nil
			}
			a.prompt(a.langOf(ctx, h))
		}
	}
}

func (a *Adapter) prompt(lang string) {
	a.mu.Lock()
	direct := a.direct
	a.mu.Unlock()
	if direct {
		a.printf("%s", a.tr.T(lang, "console.prompt_dm", "name", a.As()))
		return
	}
	a.printf("%s> ", a.As())
}

// botNames are the names a line may start with as a mention of the bot
// (@巡纪 线索 列表), as in a group chat; the mention is dropped.
var botNames = []string{"巡纪", "xunji"}

// stripMention drops a leading @巡纪 / @xunji (or ＠) from line.
func stripMention(line string) string {
	for _, at := range []string{"@", "＠"} {
		rest, ok := strings.CutPrefix(line, at)
		if !ok {
			continue
		}
		for _, n := range botNames {
			if len(rest) >= len(n) && strings.EqualFold(rest[:len(n)], n) {
				after := rest[len(n):]
				if after == "" || strings.HasPrefix(after, " ") || strings.HasPrefix(after, "\u3000") {
					return strings.TrimSpace(after)
				}
			}
		}
	}
	return line
}

// rosterer is what the console needs of the handler to check a name it
// switches to: the bot's roster.
type rosterer interface {
	Roster(ctx context.Context) (*bot.Roster, error)
}

// handleLine runs one typed line; it reports whether the user quit.
func (a *Adapter) handleLine(ctx context.Context, h bot.Handler, line string) bool {
	line = stripMention(strings.TrimSpace(line))
	fields := strings.Fields(line)
	// The console's own answers are in the acting person's language.
	lang := a.langOf(ctx, h)
	t := func(key string, args ...any) string { return a.tr.T(lang, key, args...) }
	switch {
	case line == "":
		return false
	case line == "exit" || line == "quit" || line == "退出":
		return true
	case line == "dm" || line == "私聊" || line == "group" || line == "群聊":
		direct := line == "dm" || line == "私聊"
		a.mu.Lock()
		a.direct = direct
		a.mu.Unlock()
		if direct {
			a.printf("%s\n", t("console.dm"))
		} else {
			a.printf("%s\n", t("console.group", "chat", a.chat))
		}
		return false
	case len(fields) >= 1 && (fields[0] == "as" || fields[0] == "切换" || fields[0] == "--as"):
		if len(fields) != 2 {
			a.printf("%s\n", t("console.as_usage"))
			return false
		}
		name := fields[1]
		if rs, ok := h.(rosterer); ok {
			r, err := rs.Roster(ctx)
			if err != nil {
				a.printf("%s\n", t("error.unavailable"))
				return false
			}
			p, ok := r.FindPerson(name)
			if !ok || p.IDs[Name] == "" {
				var names []string
				for _, p := range r.People {
					if p.IDs[Name] != "" {
						names = append(names, p.IDs[Name])
					}
				}
				a.printf("%s\n", t("console.as_unknown", "name", name, "names", strings.Join(names, t("list.sep"))))
				return false
			}
			name = p.IDs[Name]
		}
		a.mu.Lock()
		a.as = name
		a.mu.Unlock()
		a.printf("%s\n", t("console.as", "name", name))
		return false
	}
	if n, ok := buttonNumber(line); ok {
		a.mu.Lock()
		var p *pressable
		if n >= 1 && n <= len(a.buttons) {
			p = &a.buttons[n-1]
		}
		a.mu.Unlock()
		if p == nil {
			a.printf("%s\n", t("console.no_button", "n", n))
			return false
		}
		resp := h.Handle(ctx, &bot.Request{Kind: bot.KindAction, Platform: Name, UserID: a.As(), UserName: a.As(), ChatID: p.ref.ChatID, Action: p.b.Action, Value: p.b.Value, Message: p.ref})
		a.render(resp, p.ref)
		return false
	}
	a.mu.Lock()
	direct := a.direct
	a.mu.Unlock()
	chat := a.chat
	if direct {
		chat = "" // a private chat with the bot has no group
	}
	resp := h.Handle(ctx, &bot.Request{Kind: bot.KindCommand, Platform: Name, UserID: a.As(), UserName: a.As(), ChatID: chat, Direct: direct, Text: line})
	a.render(resp, bot.MessageRef{})
	return false
}

// buttonNumber reads "3", "#3" or "[3]" as a button press.
func buttonNumber(s string) (int, bool) {
	s = strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(s, "#"), "["), "]")
	n, err := strconv.Atoi(s)
	return n, err == nil
}

func (a *Adapter) render(resp *bot.Response, clicked bot.MessageRef) {
	if resp == nil || resp.Duplicate {
		return
	}
	shown := false
	for _, r := range resp.Replies {
		ref := a.nextRef(a.chat)
		if r.Replace && clicked.ID != "" {
			ref = clicked
			a.printf("%s\n", a.t("console.updated", "id", clicked.ID))
		} else if r.Public {
			a.printf("%s\n", a.t("console.to_chat", "chat", a.chat))
		}
		a.print(r.Text, r.Card, ref)
		a.save(r.Files)
		shown = true
	}
	if resp.Toast != "" && !shown {
		a.printf("» %s\n", resp.Toast)
	}
}

func (a *Adapter) nextRef(chat string) bot.MessageRef {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.seq++
	return bot.MessageRef{Platform: Name, ChatID: chat, ID: strconv.Itoa(a.seq)}
}

// Send implements bot.Adapter: notices are printed with their target.
func (a *Adapter) Send(_ context.Context, m bot.Outgoing) (bot.MessageRef, error) {
	var ref bot.MessageRef
	switch {
	case m.Update != nil:
		ref = *m.Update
		a.printf("\n%s\n", a.t("console.updated", "id", ref.ID))
	case m.ChatID != "":
		ref = a.nextRef(m.ChatID)
		a.printf("\n%s\n", a.t("console.to_chat", "chat", m.ChatID))
	default:
		ref = a.nextRef("dm:" + m.UserID)
		a.printf("\n%s\n", a.t("console.to_person", "name", m.UserID))
	}
	a.print(m.Text, m.Card, ref)
	a.save(m.Files)
	return ref, nil
}

// save writes attachments to the files directory and prints their paths.
func (a *Adapter) save(files []bot.File) {
	for _, f := range files {
		name := filepath.Base(filepath.Clean("/" + f.Name)) // no path from the file name
		if name == "/" || name == "." {
			name = "attachment"
		}
		path := filepath.Join(a.dir, name)
		err := os.MkdirAll(a.dir, 0o755)
		if err == nil {
			err = os.WriteFile(path, f.Data, 0o644)
		}
		if err != nil {
			a.printf("%s\n", a.t("console.file_failed", "name", name, "err", err.Error()))
			continue
		}
		a.printf("%s\n", a.t("console.file_saved", "path", path, "size", len(f.Data)))
	}
}

func (a *Adapter) print(text string, card *bot.Card, ref bot.MessageRef) {
	var s strings.Builder
	if text != "" {
		s.WriteString(text)
		s.WriteString("\n")
	}
	if card != nil {
		s.WriteString(a.cardText(card, ref))
	}
	a.printf("%s", s.String())
}

var colorMark = map[bot.Color]string{bot.Blue: "🔵", bot.Green: "🟢", bot.Orange: "🟠", bot.Red: "🔴", bot.Grey: "⚪"}

// labelColon is the colon after a field's label in the label's own
// script: full-width after Chinese, ": " after English.
func labelColon(label string) string {
	if strings.ContainsFunc(label, func(r rune) bool { return unicode.Is(unicode.Han, r) }) {
		return "："
	}
	return ": "
}

// cardText renders a card as a box with numbered buttons.
func (a *Adapter) cardText(c *bot.Card, ref bot.MessageRef) string {
	var s strings.Builder
	mark := colorMark[c.Color]
	if mark == "" {
		mark = "▪"
	}
	fmt.Fprintf(&s, "┌ %s %s\n", mark, c.Title)
	if c.Text != "" {
		for _, l := range strings.Split(c.Text, "\n") {
			fmt.Fprintf(&s, "│ %s\n", l)
		}
	}
	for _, f := range c.Fields {
		fmt.Fprintf(&s, "│ %s%s%s\n", f.Label, labelColon(f.Label), strings.ReplaceAll(f.Value, "\n", "\n│   "))
	}
	if len(c.Buttons) > 0 {
		var bs []string
		a.mu.Lock()
		for _, b := range c.Buttons {
			a.buttons = append(a.buttons, pressable{b: b, ref: ref})
			bs = append(bs, fmt.Sprintf("[%d] %s", len(a.buttons), b.Label))
		}
		a.mu.Unlock()
		fmt.Fprintf(&s, "│ %s\n", strings.Join(bs, "  "))
	}
	if c.Note != "" {
		for _, l := range strings.Split(c.Note, "\n") {
			fmt.Fprintf(&s, "│ %s\n", l)
		}
	}
	s.WriteString("└─\n")
	return s.String()
}

func (a *Adapter) printf(format string, args ...any) {
	a.mu.Lock()
	defer a.mu.Unlock()
	fmt.Fprintf(a.out, format, args...)
}
