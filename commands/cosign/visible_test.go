package cosign_test

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
	"github.com/xunji-bot/xunji/commands/cosign"
	"github.com/xunji-bot/xunji/commands/internal/index"
)

// visibleSet is 80 requests of team1 and group3 with a responsible unit:
// the finance bureau for the odd ones, Chengguan town for the even ones;
// every seventh is complete; 5 and 14 are about an item the second
// supervision room supervises.
func visibleSet() []*cosign.Cosign {
	var cs []*cosign.Cosign
	for n := 1; n <= 80; n++ {
		unit := "finance"
		if n%2 == 0 {
			unit = "chengguan"
		}
		c := request(n, unit, bottest.Start.AddDate(0, 0, 30))
		if n%7 == 0 {
			c.State = cosign.CosignComplete
		}
		if n == 5 || n == 14 {
			c.Supervisors = []string{"room2"}
		}
		cs = append(cs, c)
	}
	return cs
}

func qz(from, to int, keep func(n int) bool) []string {
	var out []string
	for n := to; n >= from; n-- {
		if keep(n) {
			out = append(out, fmt.Sprintf("QZ-2026-%04d", n))
		}
	}
	return out
}

var reListed = regexp.MustCompile(`^• (QZ-\d{4}-\d{4})`)

// follow reads line as person and every page its cursor leads to, and
// returns the requests listed, in order, and the pages' texts.
func follow(t *testing.T, env *bottest.Env, person, line string) ([]string, []string) {
	t.Helper()
	var seen, texts []string
	next := line
	for page := 0; page < 10; page++ {
		text := bottest.Text(env.Direct(person, next))
		texts = append(texts, text)
		for _, l := range strings.Split(text, "\n") {
			if m := reListed.FindStringSubmatch(l); m != nil {
				seen = append(seen, m[1])
			}
		}
		i := strings.Index(text, line+" 从:")
		if i < 0 {
			return seen, texts
		}
		next = strings.TrimSuffix(strings.TrimSpace(text[i:]), "」查看。")
	}
	t.Fatalf("%s %q: more than 10 pages", person, line)
	return nil, nil
}

// An inspected organisation lists its own co-signatures only, a body
// supervising an item those of the item too, the office all; a reader
// entitled to none is told nothing, not even how many there are.
func TestListShowsOnlyTheReadersCosigns(t *testing.T) {
	backends(t, func(t *testing.T, env *bottest.Env) {
		seedAll(t, env, visibleSet()...)
		active := func(n int) bool { return n%7 != 0 }
		odd := func(n int) bool { return n%2 == 1 }
		even := func(n int) bool { return n%2 == 0 }
		and := func(a, b func(int) bool) func(int) bool { return func(n int) bool { return a(n) && b(n) } }
		tests := []struct {
			person, line string
			want         []string
		}{
			{"wangming", "会签 列表", qz(1, 80, active)},
			{"wangming", "会签 列表 全部", qz(1, 80, func(int) bool { return true })},
			{"lina", "会签 列表", qz(1, 80, active)},                                // team1, a party of all
			{"zhoutao", "会签 列表", qz(1, 80, and(odd, active))},                   // finance
			{"zhoutao", "会签 列表 全部", qz(1, 80, odd)},                             //
			{"wufang", "会签 列表", qz(1, 80, and(even, active))},                   // Chengguan town
			{"zhaoqiang", "会签 列表", []string{"QZ-2026-0005"}},                    // room2 supervises 5 and 14
			{"zhaoqiang", "会签 列表 全部", []string{"QZ-2026-0014", "QZ-2026-0005"}}, //
			{"zhenghua", "会签 列表", nil},                                          // the committee: none
			{"zhenghua", "会签 列表 全部", nil},
		}
		for _, tc := range tests {
			got, texts := follow(t, env, tc.person, tc.line)
			if !slices.Equal(got, tc.want) {
				t.Errorf("%s %q listed %d requests %v\nwant %d %v", tc.person, tc.line, len(got), got, len(tc.want), tc.want)
			}
			if tc.want == nil && (len(texts) != 1 || !strings.HasPrefix(texts[0], "目前没有与您相关的")) {
				t.Errorf("%s %q: want only the no-request text, got %q", tc.person, tc.line, texts)
			}
			if len(tc.want) > 0 && len(tc.want) <= 30 && !strings.Contains(texts[0], fmt.Sprintf("共同签字 %d 项", len(tc.want))) {
				t.Errorf("%s %q: the header does not count the %d listed:\n%s", tc.person, tc.line, len(tc.want), texts[0])
			}
			for _, text := range texts {
				if tc.person == "zhoutao" {
					bottest.MustNotContain(t, "finance's list", text, "城关镇党委")
				}
			}
		}
		// The finance bureau reads its own request, not Chengguan's: that
		// one reads like an unknown id, and the attempt is audited.
		bottest.MustContain(t, "own request", bottest.Text(env.Direct("zhoutao", "会签 查看 QZ-2026-0001")), "QZ-2026-0001", "区财政局党组")
		other := bottest.Text(env.Direct("zhoutao", "会签 查看 QZ-2026-0002"))
		bottest.MustContain(t, "another's request", other, "找不到共同签字 QZ-2026-0002")
		bottest.MustNotContain(t, "another's request", other, "城关镇党委", "事项")
		refused, err := bottest.AuditLog(context.Background(), env.Bot, func(e bot.AuditEntry) bool {
			return e.Action == "cosign.show" && e.Result == bot.ResultRefused && e.Record == "QZ-2026-0002"
		})
		if err != nil || len(refused) != 1 {
			t.Errorf("the refused read of QZ-2026-0002 is audited %d times (%v), want once", len(refused), err)
		}
		// Nor can it sign, decline or withdraw it by typing its id.
		for _, line := range []string{"会签 签字 QZ-2026-0002", "会签 退回 QZ-2026-0002 不同意", "会签 撤回 QZ-2026-0002", "会签 QZ-2026-0002"} {
			text := bottest.Text(env.Direct("zhoutao", line))
			bottest.MustContain(t, line, text, "找不到共同签字 QZ-2026-0002")
			bottest.MustNotContain(t, line, text, "签字方成员", "城关镇党委")
		}
		if c := get(t, env, "QZ-2026-0002"); c.State != cosign.CosignOpen || c.Confirmed() != 0 {
			t.Errorf("typed commands of an outsider changed the request: %s, %d confirmed", c.State, c.Confirmed())
		}
		var actions []string
		if es, err := bottest.AuditLog(context.Background(), env.Bot, func(e bot.AuditEntry) bool {
			return e.Result == bot.ResultRefused && e.Record == "QZ-2026-0002"
		}); err == nil {
			for _, e := range es {
				actions = append(actions, e.Action)
			}
		}
		if want := []string{"cosign.show", "cosign.sign", "cosign.decline", "cosign.withdraw", "cosign.show"}; !slices.Equal(actions, want) {
			t.Errorf("refusals audited %v, want %v", actions, want)
		}
		// The office sees the refusal in the request's history.
		bottest.MustContain(t, "history", bottest.Text(env.Direct("wangming", "会签 查看 QZ-2026-0002")), "周涛 尝试查看被拒绝（不是签字方、监督单位或巡察办成员）")
		bottest.MustContain(t, "supervising body", bottest.Text(env.Direct("zhaoqiang", "会签 查看 QZ-2026-0014")), "QZ-2026-0014")
	})
}

// A request made for an item keeps the item's supervising bodies, and a
// supervising body that is not a party lists it.
func TestItemSupervisorsSeeTheItemsCosign(t *testing.T) {
	env := newEnv(t)
	addItem(t, env, "ZG-2026-0003", "公务用车登记不规范", "finance", "group3", "room2")
	id := open(t, env, "lina", `会签 新建 事项:ZG-2026-0003 巡察组:第一巡察组`)
	if c := get(t, env, id); !slices.Equal(c.Supervisors, []string{"group3", "room2"}) {
		t.Errorf("supervisors %v, want the item's", c.Supervisors)
	}
	bottest.MustContain(t, "room2's list", bottest.Text(env.Direct("zhaoqiang", "会签 列表")), id)
	bottest.MustNotContain(t, "Chengguan's list", bottest.Text(env.Direct("wufang", "会签 列表")), id)
}

// A store indexed before the readers' indexes existed (the first
// backfill's marker is done) gets them from the backfill.
func TestBackfillGivesOlderCosignsTheirReaders(t *testing.T) {
	backends(t, func(t *testing.T, env *bottest.Env) {
		ctx := context.Background()
		if err := env.Bot.RunUnit(ctx, func(ctx context.Context) error {
			for n := 1; n <= 3; n++ {
				c := request(n, "finance", bottest.Start)
				if err := bot.Records[cosign.Cosign](env.Bot.Store, cosign.CollCosigns).Put(ctx, c.ID, c); err != nil {
					return err
				}
			}
			return env.Bot.Store.Put(ctx, index.CollBackfill, cosign.CollCosignIndex, []byte(`{"after":"QZ-2026-0003","done":true}`))
		}); err != nil {
			t.Fatal(err)
		}
		if got, _ := follow(t, env, "zhoutao", "会签 列表"); len(got) != 0 {
			t.Fatalf("without the readers' index: %v", got)
		}
		if n, err := cosign.BackfillIndex(ctx, env.Bot); err != nil || n != 3 {
			t.Fatalf("backfill read %d, %v; want 3", n, err)
		}
		if got, _ := follow(t, env, "zhoutao", "会签 列表"); !slices.Equal(got, qz(1, 3, func(int) bool { return true })) {
			t.Errorf("after the backfill the finance bureau lists %v", got)
		}
		if got, _ := follow(t, env, "wufang", "会签 列表"); len(got) != 0 {
			t.Errorf("after the backfill Chengguan town lists %v", got)
		}
	})
}
