package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/xunji-bot/xunji/commands/all"

	goredis "github.com/redis/go-redis/v9"

	"github.com/xunji-bot/xunji/adapters/console"
	"github.com/xunji-bot/xunji/adapters/lark"
	"github.com/xunji-bot/xunji/adapters/slack"
	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/config"
	"github.com/xunji-bot/xunji/bot/i18n"
	"github.com/xunji-bot/xunji/bot/metrics"
	"github.com/xunji-bot/xunji/bot/outbox"
	"github.com/xunji-bot/xunji/commands/progress"
	boltstore "github.com/xunji-bot/xunji/storage/bolt"
	redisstore "github.com/xunji-bot/xunji/storage/redis"
)

// collMeta holds the generator's Stats in the store it generated: a
// store that has them is not generated again unless asked.
const (
	collMeta = "xunji_scale"
	metaID   = "stats"
)

// target is where a size is kept: a bolt file, or a Redis prefix.
type target struct {
	Backend  string // bolt, redis
	Size     string
	Dir      string // bolt files
	RedisURL string
	Prefix   string // Redis key prefix of the size
}

func (t target) boltPath() string { return filepath.Join(t.Dir, "xunji-scale-"+t.Size+".db") }

// open opens the target's store.
func (t target) open(ctx context.Context) (bot.Store, error) {
	switch t.Backend {
	case "bolt":
		if err := os.MkdirAll(t.Dir, 0o755); err != nil {
			return nil, err
		}
		return boltstore.Open(t.boltPath())
	case "redis":
		return redisstore.Open(ctx, t.RedisURL, redisstore.WithPrefix(t.Prefix))
	}
	return nil, fmt.Errorf("unknown backend %q (bolt, redis)", t.Backend)
}

// remove deletes the target's data: the bolt file, or the Redis keys
// under its prefix.
func (t target) remove(ctx context.Context) error {
	switch t.Backend {
	case "bolt":
		err := os.Remove(t.boltPath())
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	case "redis":
		opt, err := goredis.ParseURL(t.RedisURL)
		if err != nil {
			return err
		}
		c := goredis.NewClient(opt)
		defer c.Close()
		return deletePrefix(ctx, c, t.Prefix)
	}
	return nil
}

// deletePrefix removes every key under prefix, a batch at a time
// (UNLINK frees the memory off the main thread).
func deletePrefix(ctx context.Context, c *goredis.Client, prefix string) error {
	iter := c.Scan(ctx, 0, prefix+"*", 5000).Iterator()
	var batch []string
	for iter.Next(ctx) {
		batch = append(batch, iter.Val())
		if len(batch) == 1000 {
			if err := c.Unlink(ctx, batch...).Err(); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	if err := iter.Err(); err != nil {
		return err
	}
	if len(batch) > 0 {
		return c.Unlink(ctx, batch...).Err()
	}
	return nil
}

// discard is the adapter of the benchmark's bot: the console platform,
// sending nowhere. The outbox, not the timed command, sends.
type discard struct{ n int }

func (d *discard) Platform() bot.Platform                       { return console.Name }
func (d *discard) Run(ctx context.Context, _ bot.Handler) error { <-ctx.Done(); return nil }
func (d *discard) Mention(userID, _ string) string              { return "@" + userID }
func (d *discard) Send(_ context.Context, m bot.Outgoing) (bot.MessageRef, error) {
	if m.Update != nil {
		return *m.Update, nil
	}
	d.n++
	return bot.MessageRef{Platform: console.Name, ChatID: m.ChatID + m.UserID, ID: strconv.Itoa(d.n)}, nil
}

// app is a bot built as cmd/xunji builds it on the demo configuration:
// every command package, the metrics middleware, the durable outbox.
type app struct {
	Bot    *bot.Bot
	Outbox *outbox.Outbox
	Config *config.Config
	// lastErr is the error the last handled request ended with (nil when
	// it was answered), seen by a middleware.
	lastErr error
}

func newApp(store bot.Store, now func() time.Time) (*app, error) {
	cfg := config.Demo()
	cat, err := i18n.Load()
	if err != nil {
		return nil, err
	}
	ps := bot.NewPlatforms(slack.Platform(), lark.Platform(), console.Platform())
	b, err := bot.New(bot.Options{
		Store: store, Translator: cat, Roster: cfg.Roster(ps), Groups: cfg.ChatGroups(ps),
		Location: cfg.Location(), Lang: i18n.Norm(cfg.Lang), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Calendar: cfg.Calendar(), Now: now, Platforms: ps,
	})
	if err != nil {
		return nil, err
	}
	a := &app{Bot: b, Config: cfg}
	b.Router.Use(metrics.New().Middleware())
	b.Router.Use(func(next bot.RunFunc) bot.RunFunc {
		return func(ctx context.Context, req *bot.Request) (*bot.Response, error) {
			resp, err := next(ctx, req)
			a.lastErr = err
			return resp, err
		}
	})
	// The same command packages, wired the same way, as cmd/xunji.
	if err := all.Register(b, cfg); err != nil {
		return nil, err
	}
	b.Out.AddAdapter(&discard{})
	a.Outbox = outbox.New(b, outbox.Options{Now: now})
	b.Out.SetSender(a.Outbox)
	return a, nil
}

// command handles line from person (a roster id) in the collaboration
// group, as an adapter hands the bot a message, and returns the error
// it was answered with.
func (a *app) command(ctx context.Context, person, line string) error {
	r := a.Bot.People.BaseRoster()
	p, ok := r.Person(person)
	if !ok {
		return fmt.Errorf("no person %q", person)
	}
	a.lastErr = nil
	resp := a.Bot.Handle(ctx, &bot.Request{Kind: bot.KindCommand, Platform: console.Name, UserID: p.IDs[console.Name], UserName: p.Name, ChatID: "巡纪协作群", Text: line})
	if a.lastErr != nil {
		return a.lastErr
	}
	if resp == nil || len(resp.Replies) == 0 {
		return errors.New("no reply")
	}
	return nil
}

// errDiscard drops the unit of work a timed scheduled task ran in, so
// that every run does the whole work (a second notice for a month
// would stop early) and leaves nothing behind.
var errDiscard = &bot.Error{Code: bot.EINTERNAL, Err: errors.New("benchmark: discard the run's writes")}

// task runs the scheduled task name for at in a unit of work that is
// dropped afterwards.
func (a *app) task(ctx context.Context, name string, at time.Time) error {
	t, ok := a.Bot.Jobs.Task(name)
	if !ok {
		return fmt.Errorf("no task %q", name)
	}
	err := a.Bot.RunUnit(ctx, func(ctx context.Context) error {
		if err := t.Run(ctx, at); err != nil {
			return err
		}
		return errDiscard
	})
	if errors.Is(err, errDiscard) {
		return nil
	}
	return err
}

// op is one timed operation.
type op struct {
	Name   string
	Target time.Duration // at L
	Flat   bool          // a single-record command: its M/S and L/S should be ≈ 1×
	Run    func(ctx context.Context, i int) error
}

// ops are the operations on the generated data.
func (a *app) ops(st *Stats, now func() time.Time) []op {
	cmd := func(person, line string) func(context.Context, int) error {
		return func(ctx context.Context, _ int) error { return a.command(ctx, person, line) }
	}
	return []op{
		{Name: "线索 查看 (baseline)", Target: 100 * time.Millisecond, Flat: true, Run: cmd("wangming", "线索 查看 "+st.Clue)},
		{Name: "线索 记录", Target: 100 * time.Millisecond, Flat: true, Run: cmd("wangming", "线索 记录 "+st.Clue)},
		{Name: "会签 查看", Target: 100 * time.Millisecond, Flat: true, Run: cmd("wangming", "会签 查看 "+st.Cosign)},
		{Name: "考核 2026Q4", Target: time.Second, Run: cmd("wangming", "考核 2026Q4")},
		{Name: "进度 汇总", Target: time.Second, Run: cmd("wangming", "进度 汇总")},
		{Name: "monthly notice task", Target: time.Second, Run: func(ctx context.Context, _ int) error {
			return a.task(ctx, progress.TaskMonthlyNotice, now())
		}},
		{Name: "进度 新建", Target: 100 * time.Millisecond, Run: func(ctx context.Context, i int) error {
			title := fmt.Sprintf("规模测试新建事项%d-%d", now().UnixNano(), i)
			return a.command(ctx, "wangming", "进度 新建 区财政局党组 \""+title+"\" 期限:2027-03-31 监督:第二监督检查室")
		}},
		{Name: "线索 列表", Target: 100 * time.Millisecond, Run: cmd("wangming", "线索 列表")},
	}
}

// median of ds (the lower middle for an even count).
func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[(len(s)-1)/2]
}

// procStatus reads a field of /proc/self/status in kB (0 where there is
// none, off Linux).
func procStatus(field string) int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				n, _ := strconv.Atoi(f[0])
				return n
			}
		}
	}
	return 0
}
