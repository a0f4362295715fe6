package consult_test

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
	"github.com/xunji-bot/xunji/commands/consult"
	"github.com/xunji-bot/xunji/commands/internal/index"
	"github.com/xunji-bot/xunji/commands/internal/index/indextest"
)

// visibleSet is 120 requests: 1–60 of round XC-2026-0001 (team1, about
// the finance bureau), 61–120 of XC-2026-0002 (team2, about the housing
// bureau); the even ones ask the audit bureau (which answered 120 only),
// the odd ones the petitions bureau. The organisation department is asked
// nothing.
func visibleSet() []*consult.Consultation {
	var cs []*consult.Consultation
	for n := 1; n <= 120; n++ {
		c := request(n, []string{"audit"})
		if n == 120 {
			c = request(n, []string{"audit"}, "audit")
		}
		if n%2 == 1 {
			c = request(n, []string{"petitions"})
		}
		if n > 60 {
			c.Round, c.Team, c.Organisation = "XC-2026-0002", "team2", "housing"
		}
		cs = append(cs, c)
	}
	return cs
}

func ids(from, to int, keep func(n int) bool) []string {
	var out []string
	for n := to; n >= from; n-- {
		if keep(n) {
			out = append(out, fmt.Sprintf("ZX-2026-%04d", n))
		}
	}
	return out
}

var reListed = regexp.MustCompile(`ZX-\d{4}-\d{4}`)

// follow reads line as person and every page its cursor leads to, and
// returns the requests listed, in order, and the pages' texts.
func follow(t *testing.T, env *bottest.Env, person, line string) ([]string, []string) {
	t.Helper()
	var seen, texts []string
	next := line
	for page := 0; page < 10; page++ {
		text := bottest.Text(env.Command(person, next))
		texts = append(texts, text)
		i := strings.Index(text, line+" 从:")
		var cursor string
		if i >= 0 {
			cursor = strings.TrimSuffix(strings.TrimSpace(text[i:]), "」查看。")
			text = text[:i]
		}
		for _, l := range strings.Split(text, "\n") {
			if strings.HasPrefix(l, "• ") {
				seen = append(seen, reListed.FindString(l))
			}
		}
		if cursor == "" {
			return seen, texts
		}
		next = cursor
	}
	t.Fatalf("%s %q: more than 10 pages", person, line)
	return nil, nil
}

// The list and the round page hold only the requests the reader may know
// of: a department those it was consulted on, a team its round's, the
// office all; a reader entitled to none is told nothing, not even how
// many there are.
func TestConsultListShowsOnlyEntitledRequests(t *testing.T) {
	indextest.Backends(t, func(t *testing.T, opts ...bottest.Option) {
		env := indexEnv(t, opts...)
		seedConsults(t, env, visibleSet()...)
		even := func(n int) bool { return n%2 == 0 }
		odd := func(n int) bool { return n%2 == 1 }
		all := func(int) bool { return true }
		tests := []struct {
			person, line string
			want         []string
		}{
			{"wangming", "征询 列表", ids(1, 120, all)},
			{"wangming", "征询 列表 XC-2026-0002", ids(61, 120, all)},
			{"maping", "征询 列表", ids(1, 120, even)}, // audit bureau
			{"maping", "征询 列表 XC-2026-0001", ids(1, 60, even)},
			{"luoxia", "征询 列表", ids(1, 120, odd)}, // petitions bureau
			{"lina", "征询 列表", ids(1, 60, all)},    // team1
			{"lina", "征询 列表 XC-2026-0002", nil},
			{"gaofeng", "征询 列表", ids(61, 120, all)}, // team2 and the staffing office, never asked
			{"hejun", "征询 列表", nil},                 // organisation department, never asked
			{"hejun", "征询 列表 XC-2026-0001", nil},
		}
		for _, tc := range tests {
			got, texts := follow(t, env, tc.person, tc.line)
			if !slices.Equal(got, tc.want) {
				t.Errorf("%s %q listed %d requests %v\nwant %d %v", tc.person, tc.line, len(got), got, len(tc.want), tc.want)
			}
			if tc.want == nil {
				if len(texts) != 1 || texts[0] != "没有与您相关的征询。" {
					t.Errorf("%s %q: want only the no-request text, got %q", tc.person, tc.line, texts)
				}
			}
			for _, text := range texts {
				if len(got) > 0 && len(got) <= 50 {
					if n := fmt.Sprint(len(got)); !strings.Contains(text, "征询共 "+n+" 个") {
						t.Errorf("%s %q: the header does not count the %s listed:\n%s", tc.person, tc.line, n, text)
					}
				}
			}
		}
		// A department reads its own state, not how many others answered.
		first := bottest.Text(env.Command("maping", "征询 列表"))
		bottest.MustContain(t, "department list", first, "ZX-2026-0120 XC-2026-0002 区住建局党组，期限 2026-09-10，区审计局已回复", "ZX-2026-0118 XC-2026-0002 区住建局党组，期限 2026-09-10，区审计局逾期未回复")
		bottest.MustNotContain(t, "department list", first, "/1", "ZX-2026-0119", "区信访局")
		// The organisation department cannot learn which organisation
		// any round inspects, from the round page either.
		for line, want := range map[string]string{
			"征询 列表":              "没有与您相关的征询。",
			"征询 查看 XC-2026-0001": "轮次 XC-2026-0001 还没有征询",
			"征询 查看 XC-2026-0002": "轮次 XC-2026-0002 还没有征询",
			"征询 查看 ZX-2026-0001": "找不到征询 ZX-2026-0001",
		} {
			text := bottest.Text(env.Direct("hejun", line))
			bottest.MustContain(t, "hejun "+line, text, want)
			bottest.MustNotContain(t, "hejun "+line, text, "区财政局党组", "区住建局党组", "仅巡察办", "已记录")
		}
		refused, err := bottest.AuditLog(context.Background(), env.Bot, func(e bot.AuditEntry) bool {
			return e.Action == "consult.show" && e.Result == bot.ResultRefused && e.Record == "ZX-2026-0001"
		})
		if err != nil || len(refused) != 1 {
			t.Errorf("the refused read of ZX-2026-0001 is audited %d times (%v), want once", len(refused), err)
		}
		// The round page of a department holds its own requests only.
		page := bottest.Text(env.Direct("maping", "征询 查看 XC-2026-0002"))
		if got := reListed.FindAllString(page, -1); !slices.Equal(index0(got), ids(61, 120, even)) {
			t.Errorf("the audit bureau's round page shows %v", got)
		}
	})
}

// index0 is the distinct ids of got, newest first.
func index0(got []string) []string {
	slices.Sort(got)
	got = slices.Compact(got)
	slices.Reverse(got)
	return got
}

// A store whose requests were indexed before the readers' indexes
// existed (the backfill marker of the first index is done) gets them
// from the backfill, and a department then lists its requests.
func TestBackfillGivesOlderRequestsTheirReaders(t *testing.T) {
	indextest.Backends(t, func(t *testing.T, opts ...bottest.Option) {
		env := indexEnv(t, opts...)
		ctx := context.Background()
		if err := env.Bot.RunUnit(ctx, func(ctx context.Context) error {
			for n := 1; n <= 3; n++ {
				c := request(n, []string{"audit"})
				if err := bot.Records[consult.Consultation](env.Bot.Store, consult.CollConsults).Put(ctx, c.ID, c); err != nil {
					return err
				}
			}
			return env.Bot.Store.Put(ctx, index.CollBackfill, consult.CollConsultIndex, []byte(`{"after":"ZX-2026-0003","done":true}`))
		}); err != nil {
			t.Fatal(err)
		}
		if got, _ := follow(t, env, "maping", "征询 列表"); len(got) != 0 {
			t.Fatalf("without the readers' index: %v", got)
		}
		if n, err := consult.BackfillIndex(ctx, env.Bot); err != nil || n != 3 {
			t.Fatalf("backfill read %d, %v; want 3", n, err)
		}
		if got, _ := follow(t, env, "maping", "征询 列表"); !slices.Equal(got, ids(1, 3, func(int) bool { return true })) {
			t.Errorf("after the backfill the audit bureau lists %v", got)
		}
		if got, _ := follow(t, env, "luoxia", "征询 列表"); len(got) != 0 {
			t.Errorf("after the backfill the petitions bureau lists %v", got)
		}
	})
}
