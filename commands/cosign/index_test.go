package cosign_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
	"github.com/xunji-bot/xunji/commands/cosign"
	boltstore "github.com/xunji-bot/xunji/storage/bolt"
)

// backends runs fn on the memory store, a bolt file and Redis (DB 15,
// a prefix of its own, removed after the test).
func backends(t *testing.T, fn func(t *testing.T, env *bottest.Env)) {
	t.Run("memory", func(t *testing.T) { fn(t, newEnv(t)) })
	t.Run("bolt", func(t *testing.T) {
		s, err := boltstore.Open(filepath.Join(t.TempDir(), "x.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		fn(t, newEnv(t, bottest.WithStore(s)))
	})
	t.Run("redis", func(t *testing.T) {
		var raw [6]byte
		_, _ = rand.Read(raw[:])
		fn(t, newEnv(t, bottest.WithStore(openRedis(t, "xunjitest:"+hex.EncodeToString(raw[:])+":"))))
	})
}

// request is an open three-party request numbered n whose parties are
// team1, group3 and body, none signed, reminded from remind.
func request(n int, body string, remind time.Time) *cosign.Cosign {
	party := func(b string) cosign.CosignParty {
		return cosign.CosignParty{Body: b, State: cosign.PartyWaiting, Since: remind.Add(-48 * time.Hour), RemindAt: remind, EscalateAt: remind.Add(48 * time.Hour)}
	}
	return &cosign.Cosign{
		ID: fmt.Sprintf("QZ-2026-%04d", n), Template: "three", Subject: cosign.SubjectImmediateFix, Description: "事项",
		Order: cosign.OrderFree, State: cosign.CosignOpen, Opens: 1,
		Parties: []cosign.CosignParty{party("team1"), party("group3"), party(body)},
	}
}

// seedAll stores cs with Seed in one unit of work.
func seedAll(t *testing.T, env *bottest.Env, cs ...*cosign.Cosign) {
	t.Helper()
	err := env.Bot.RunUnit(context.Background(), func(ctx context.Context) error {
		for _, c := range cs {
			if err := cosign.Seed(ctx, env.Bot.Store, c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func indexIDs(t *testing.T, env *bottest.Env) []string {
	t.Helper()
	docs, err := bot.ScanDocs(context.Background(), env.Store, cosign.CollCosignIndex, bot.Range{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range docs {
		out = append(out, d.ID)
	}
	return out
}

func awaiting(t *testing.T, env *bottest.Env, body string) []string {
	t.Helper()
	cs, err := cosign.NewQueries(env.Store).AwaitingSignatureOf(context.Background(), body)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return out
}

// A request's index documents are written in the unit of work that
// writes the request, and a unit that fails leaves neither; a signature
// moves them in its own unit.
func TestIndexDocumentsCommitWithTheRequest(t *testing.T) {
	backends(t, func(t *testing.T, env *bottest.Env) {
		ctx := context.Background()
		boom := errors.New("boom")
		err := env.Bot.RunUnit(ctx, func(ctx context.Context) error {
			if err := cosign.Seed(ctx, env.Bot.Store, request(90, "finance", bottest.Start)); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("failed unit: %v", err)
		}
		if got := indexIDs(t, env); len(got) != 0 {
			t.Fatalf("a failed unit left index documents: %q", got)
		}

		id := open(t, env, "lina", newThree)
		if got := awaiting(t, env, "finance"); !slices.Equal(got, []string{id}) {
			t.Fatalf("finance awaits %v, want [%s]", got, id)
		}
		if resp := env.Click("lina", signButton(id)); !strings.Contains(resp.Toast, "已签 1/3") {
			t.Fatalf("sign: %s", bottest.Text(resp))
		}
		if got := awaiting(t, env, "team1"); len(got) != 0 {
			t.Errorf("team1 signed and still awaits %v", got)
		}
		if got := awaiting(t, env, "group3"); !slices.Equal(got, []string{id}) {
			t.Errorf("group3 awaits %v, want [%s]", got, id)
		}
		env.Direct("lina", "会签 撤回 "+id+" 重复发起")
		if c := get(t, env, id); c.State != cosign.CosignWithdrawn {
			t.Fatalf("state after withdrawing: %s", c.State)
		}
		if got := indexIDs(t, env); slices.ContainsFunc(got, func(s string) bool {
			return strings.HasPrefix(s, "await\x00") || strings.HasPrefix(s, "active\x00")
		}) {
			t.Errorf("a withdrawn request is still indexed as in progress: %q", got)
		}
	})
}

// The list shows a page of the newest requests in progress and a cursor
// to the older ones; following it shows each request once.
func TestListPagesFromTheNewestWithACursor(t *testing.T) {
	backends(t, func(t *testing.T, env *bottest.Env) {
		var cs []*cosign.Cosign
		for n := 1; n <= 65; n++ {
			c := request(n, "finance", bottest.Start.AddDate(0, 0, 30))
			if n%10 == 0 {
				c.State = cosign.CosignComplete
			}
			cs = append(cs, c)
		}
		seedAll(t, env, cs...)
		var seen []string
		line := "会签 列表"
		for page := 0; ; page++ {
			text := bottest.Text(env.Direct("lina", line))
			var ids []string
			for _, l := range strings.Split(text, "\n") {
				if strings.HasPrefix(l, "• ") {
					ids = append(ids, strings.Fields(l)[1])
				}
			}
			if len(ids) == 0 || len(ids) > 30 {
				t.Fatalf("page %d has %d requests:\n%s", page, len(ids), text)
			}
			if page == 0 && ids[0] != "QZ-2026-0065" {
				t.Fatalf("the first page starts with %s, want the newest:\n%s", ids[0], text)
			}
			seen = append(seen, ids...)
			i := strings.Index(text, "会签 列表 从:")
			if i < 0 {
				break
			}
			line = strings.TrimRight(text[i:], "」查看。")
			if want := "会签 列表 从:" + ids[len(ids)-1]; line != want {
				t.Fatalf("cursor %q, want %q", line, want)
			}
		}
		var want []string
		for n := 65; n >= 1; n-- {
			if n%10 != 0 {
				want = append(want, fmt.Sprintf("QZ-2026-%04d", n))
			}
		}
		if !slices.Equal(seen, want) {
			t.Errorf("pages showed %v\nwant %v", seen, want)
		}
		all := bottest.Text(env.Direct("lina", "会签 列表 全部"))
		bottest.MustContain(t, "list all", all, "QZ-2026-0065", "QZ-2026-0060", "会签 列表 全部 从:QZ-2026-0036")
		bottest.MustNotContain(t, "list all", all, "QZ-2026-0035")
	})
}

// A body's waiting requests come from its own index entries: another
// body's requests are not read, and a body with none gets none.
func TestAwaitingSignatureOfReadsOnlyTheBodysRequests(t *testing.T) {
	backends(t, func(t *testing.T, env *bottest.Env) {
		seedAll(t, env, request(1, "finance", bottest.Start), request(2, "chengguan", bottest.Start), request(3, "finance", bottest.Start))
		if got := awaiting(t, env, "finance"); !slices.Equal(got, []string{"QZ-2026-0001", "QZ-2026-0003"}) {
			t.Errorf("finance awaits %v", got)
		}
		if got := awaiting(t, env, "chengguan"); !slices.Equal(got, []string{"QZ-2026-0002"}) {
			t.Errorf("chengguan awaits %v", got)
		}
		if got := awaiting(t, env, "housing"); len(got) != 0 {
			t.Errorf("housing awaits %v", got)
		}
	})
}

// The reminder and assessment queries read the requests by time.
func TestTimeQueriesReadTheIndex(t *testing.T) {
	backends(t, func(t *testing.T, env *bottest.Env) {
		ctx := context.Background()
		day := func(d int) time.Time { return time.Date(2026, 11, d, 9, 0, 0, 0, env.Bot.Loc) }
		done := request(3, "finance", day(5))
		done.State = cosign.CosignComplete
		for i := range done.Parties {
			done.Parties[i].State = cosign.PartyConfirmed
		}
		seedAll(t, env, request(1, "finance", day(10)), request(2, "finance", day(20)), done)
		q := cosign.NewQueries(env.Store)
		got, err := q.UnsignedAt(ctx, day(15))
		if err != nil || len(got) != 1 || got[0].ID != "QZ-2026-0001" {
			t.Errorf("UnsignedAt(15th) = %v, %v; want QZ-2026-0001", got, err)
		}
		got, err = q.RemindedBetween(ctx, day(1), day(11))
		if err != nil || len(got) != 2 || got[0].ID != "QZ-2026-0001" || got[1].ID != "QZ-2026-0003" {
			t.Errorf("RemindedBetween(1st, 11th) = %v, %v; want QZ-2026-0001 and QZ-2026-0003", got, err)
		}
	})
}

// A store written before the index gets its index documents from the
// backfill, once: the marker makes a second run read nothing.
func TestBackfillIndexesAnOlderStoreOnce(t *testing.T) {
	backends(t, func(t *testing.T, env *bottest.Env) {
		ctx := context.Background()
		// 1,203 requests written as an older version did: no index.
		err := env.Bot.RunUnit(ctx, func(ctx context.Context) error {
			for n := 1; n <= 1203; n++ {
				c := request(n, "finance", bottest.Start)
				if n%2 == 0 {
					c.Parties[2].Body = "chengguan"
				}
				if err := bot.Records[cosign.Cosign](env.Bot.Store, cosign.CollCosigns).Put(ctx, c.ID, c); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := awaiting(t, env, "finance"); len(got) != 0 {
			t.Fatalf("without the index finance awaits %d", len(got))
		}
		n, err := cosign.BackfillIndex(ctx, env.Bot)
		if err != nil || n != 1203 {
			t.Fatalf("backfill read %d, %v; want 1203", n, err)
		}
		if got := awaiting(t, env, "finance"); len(got) != 602 {
			t.Errorf("after the backfill finance awaits %d, want 602", len(got))
		}
		if got := awaiting(t, env, "chengguan"); len(got) != 601 {
			t.Errorf("after the backfill chengguan awaits %d, want 601", len(got))
		}
		if n, err := cosign.BackfillIndex(ctx, env.Bot); err != nil || n != 0 {
			t.Errorf("second backfill read %d, %v; want 0", n, err)
		}
	})
}
