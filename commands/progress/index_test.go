package progress

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/storage/redis/redistest"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
	"github.com/xunji-bot/xunji/commands/internal/sheet/sheettest"
	"github.com/xunji-bot/xunji/storage/bolt"
	"github.com/xunji-bot/xunji/storage/redis"
)

// backends runs fn on the memory store, on bbolt and on the test Redis.
func backends(t *testing.T, fn func(t *testing.T, s bot.Store)) {
	t.Run("mem", func(t *testing.T) { fn(t, bottest.NewMem()) })
	t.Run("bolt", func(t *testing.T) {
		s, err := bolt.Open(filepath.Join(t.TempDir(), "x.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		fn(t, s)
	})
	t.Run("redis", func(t *testing.T) { fn(t, openRedis(t)) })
}

// openRedis opens a store on the test Redis under a prefix of its own
// (redistest.Open). It fails rather than skips without a server.
func openRedis(t *testing.T) *redis.Store { return redistest.Open(t, "progress") }

// checkIndex fails unless the index documents, title keys and tallies
// of s are exactly those its items call for.
func checkIndex(t *testing.T, s bot.Store) {
	t.Helper()
	items, err := bot.Records[Item](s, CollItems).List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantIdx := map[string]string{}
	wantTitles := map[string]string{}
	wantTally := map[string]Tally{}
	for _, it := range items {
		doc, _ := json.Marshal(it.indexed())
		for _, k := range indexKeys(it) {
			wantIdx[k] = string(doc)
		}
		wantTitles[titleKey(it.Unit, it.Title)] = it.ID
		for id, tl := range tallyOf(it) {
			sum := wantTally[id]
			sum.Unit, sum.Done, sum.Immediate, sum.PercentSum = tl.Unit, sum.Done+tl.Done, sum.Immediate+tl.Immediate, sum.PercentSum+tl.PercentSum
			wantTally[id] = sum
		}
	}
	docs, err := s.List(ctx, CollItemIndex)
	if err != nil {
		t.Fatal(err)
	}
	gotIdx := map[string]string{}
	for _, d := range docs {
		gotIdx[d.ID] = string(d.Data)
	}
	if !reflect.DeepEqual(gotIdx, wantIdx) {
		var missing, extra, stale []string
		for k, v := range wantIdx {
			switch g, ok := gotIdx[k]; {
			case !ok:
				missing = append(missing, k)
			case g != v:
				stale = append(stale, k)
			}
		}
		for k := range gotIdx {
			if _, ok := wantIdx[k]; !ok {
				extra = append(extra, k)
			}
		}
		t.Errorf("index: missing %q, extra %q, stale %q", missing, extra, stale)
	}
	titles, err := bot.Records[titleDoc](s, CollItemTitles).List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(titles) != len(wantTitles) {
		t.Errorf("%d title keys, want %d", len(titles), len(wantTitles))
	}
	for k, id := range wantTitles {
		if got, err := titleOwner(ctx, s, strings.SplitN(k, "\x00", 2)[0], strings.SplitN(k, "\x00", 2)[1]); err != nil || got != id {
			t.Errorf("title key %q names %q (%v), want %s", k, got, err, id)
		}
	}
	tdocs, err := s.List(ctx, CollItemTally)
	if err != nil {
		t.Fatal(err)
	}
	gotTally := map[string]Tally{}
	for _, d := range tdocs {
		var tl Tally
		_ = json.Unmarshal(d.Data, &tl)
		if tl.Done != 0 || tl.Immediate != 0 || tl.PercentSum != 0 {
			gotTally[d.ID] = tl
		}
	}
	if !reflect.DeepEqual(gotTally, wantTally) {
		t.Errorf("tallies %+v\nwant %+v", gotTally, wantTally)
	}
	checks, err := bot.Records[Check](s, CollProgressChecks).List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var wantChecks []string
	for _, c := range checks {
		wantChecks = append(wantChecks, checkIndexKey(c))
	}
	slices.Sort(wantChecks)
	cdocs, err := s.List(ctx, CollCheckIndex)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(cdocs); !slices.Equal(got, wantChecks) {
		t.Errorf("check index %q, want %q", got, wantChecks)
	}
}

// Every write of an item — creation, progress, 100%, refusal, 销号 —
// leaves its index documents, title key and tally in step with it, on
// every backend.
func TestIndexFollowsEveryWrite(t *testing.T) {
	backends(t, func(t *testing.T, s bot.Store) {
		env := newEnv(t, bottest.WithStore(s))
		a := create(t, env, financeItem)
		b := create(t, env, financeItem2)
		create(t, env, chengguanItem)
		checkIndex(t, s)
		env.Command("zhoutao", "进度 "+a+" 40% 已起草制度")
		env.Command("zhoutao", "进度 "+b+" 100% 已整改")
		checkIndex(t, s)
		env.Command("chenjing", "进度 退回 "+b+" 佐证材料不全")
		checkIndex(t, s)
		env.Command("zhoutao", "进度 "+b+" 100% 补充材料")
		env.Command("chenjing", "进度 销号 "+b)
		if it := loadItem(t, env, b); it.Status != ItemDone {
			t.Fatalf("%s not closed: %+v", b, it.Status)
		}
		checkIndex(t, s)
		open, err := NewQueries(s, env.Bot.Loc).OpenItemsOf(ctx, "group3")
		if err != nil {
			t.Fatal(err)
		}
		if len(open) != 1 || open[0].ID != a {
			t.Errorf("group3's open items %v, want only %s", open, a)
		}
	})
}

// An item written in a unit of work that fails leaves no index document,
// title key or tally behind; nor does a change of it.
func TestIndexGoesWithAFailedUnit(t *testing.T) {
	backends(t, func(t *testing.T, s bot.Store) {
		env := newEnv(t, bottest.WithStore(s))
		a := create(t, env, financeItem)
		before, _ := s.List(ctx, CollItemIndex)
		boom := errors.New("boom")
		err := env.Bot.RunUnit(ctx, func(ctx context.Context) error {
			if err := insert(ctx, env.Bot.Store, &Item{ID: "ZG-2026-0999", Unit: "finance", Title: "x", Status: ItemOpen, Supervisors: []string{"room2"}}); err != nil {
				return err
			}
			if _, err := update(ctx, env.Bot.Store, a, func(v *Item) error {
				v.Status, v.Percent, v.DoneAt = ItemDone, 100, env.Clock.Now()
				return nil
			}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("unit: %v", err)
		}
		after, _ := s.List(ctx, CollItemIndex)
		if !reflect.DeepEqual(before, after) {
			t.Errorf("index changed by a failed unit:\n%q\n%q", ids(before), ids(after))
		}
		if id, _ := titleOwner(ctx, s, "finance", "x"); id != "" {
			t.Errorf("title key of a failed unit's item: %s", id)
		}
		checkIndex(t, s)
	})
}

func ids(docs []bot.Doc) []string {
	var out []string
	for _, d := range docs {
		out = append(out, d.ID)
	}
	return out
}

// A title already taken in a unit is refused from its key document, not
// from a scan of the items: a key document naming an item is enough.
func TestTitleUniquenessUsesTheKeyDocument(t *testing.T) {
	backends(t, func(t *testing.T, s bot.Store) {
		env := newEnv(t, bottest.WithStore(s))
		a := create(t, env, financeItem)
		text := bottest.Text(env.Command("lina", "进度 新建 "+financeItem))
		contains(t, text, env.TZ("progress.error.duplicate", "id", a, "title", "专项资金管理制度不健全"))
		// A key document without an item: only the key can refuse it.
		if err := bot.Records[titleDoc](s, CollItemTitles).Put(ctx, titleKey("finance", "公务用车登记不规范"), &titleDoc{ID: "ZG-2025-0042"}); err != nil {
			t.Fatal(err)
		}
		text = bottest.Text(env.Command("lina", "进度 新建 "+financeItem2))
		contains(t, text, env.TZ("progress.error.duplicate", "id", "ZG-2025-0042", "title", "公务用车登记不规范"))
	})
}

// seedItems stores n items through Seed, in units of 50, spread over
// units, supervisors and statuses, closed over the two years before now.
func seedItems(t *testing.T, env *bottest.Env, n int, seed uint64) []*Item {
	t.Helper()
	rnd := mrand.New(mrand.NewPCG(seed, 1))
	now := env.Clock.Now()
	units := []string{"finance", "housing", "chengguan"}
	sups := []string{"room1", "room2", "group3", "sup_chengguan"}
	var out []*Item
	for i := range n {
		created := now.Add(-time.Duration(rnd.IntN(700*24)) * time.Hour)
		it := &Item{
			ID: fmt.Sprintf("ZG-%d-%04d", created.Year(), i+1), Unit: units[rnd.IntN(len(units))], Title: fmt.Sprintf("事项%d", i),
			Deadline: bot.Midnight(created.AddDate(0, 1+rnd.IntN(5), 0), env.Bot.Loc), Supervisors: []string{sups[rnd.IntN(len(sups))]},
			Immediate: rnd.IntN(5) == 0, Status: ItemOpen, CreatedAt: created, CreatedBy: "lina", Source: "team1",
		}
		pct := 10 * rnd.IntN(10)
		last := created.Add(time.Duration(rnd.Int64N(int64(now.Sub(created)))))
		switch rnd.IntN(3) {
		case 1:
			it.Status, pct, it.CompletedAt = ItemAwaiting, 100, last
		case 2:
			it.Status, pct, it.CompletedAt, it.DoneAt = ItemDone, 100, last, last.Add(time.Duration(rnd.Int64N(int64(now.Sub(last)))))
		}
		if pct > 0 {
			it.Progress = []ProgressEntry{{Time: last, Person: "zhoutao", Percent: pct}}
		}
		it.Percent = pct
		out = append(out, it)
	}
	for i := 0; i < n; i += 50 {
		batch := out[i:min(i+50, n)]
		if err := env.Bot.RunUnit(ctx, func(ctx context.Context) error {
			for _, it := range batch {
				if err := Seed(ctx, env.Bot.Store, it); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// The figures of the notice, read from the tallies of the items closed
// before the month and the summaries of the others, are those of every
// item; so are each supervising body's scoped figures.
func TestFiguresFromTalliesEqualFiguresOfEveryItem(t *testing.T) {
	backends(t, func(t *testing.T, s bot.Store) {
		env := newEnv(t, bottest.WithStore(s))
		items := seedItems(t, env, 300, 7)
		checkIndex(t, s)
		r := env.Bot.People.BaseRoster()
		for _, at := range []time.Time{env.Clock.Now(), env.Clock.Now().AddDate(0, 0, 20)} {
			orgs, total, read, err := figuresAt(ctx, s, r, nil, at, env.Bot.Loc)
			if err != nil {
				t.Fatal(err)
			}
			wantOrgs, wantTotal := Figures(r, items, nil, at, env.Bot.Loc)
			if !reflect.DeepEqual(orgs, wantOrgs) || total != wantTotal {
				t.Errorf("at %s: figures %+v / %+v\nwant %+v / %+v", at, orgs, total, wantOrgs, wantTotal)
			}
			if len(read) >= len(items) {
				t.Errorf("read %d of %d items one by one", len(read), len(items))
			}
			h := &handler{b: env.Bot}
			rep := &Report{At: at, items: read}
			for _, sup := range []string{"room1", "group3"} {
				body, _ := r.Body(sup)
				sr, err := h.scoped(ctx, r, rep, nil, body)
				if err != nil {
					t.Fatal(err)
				}
				mine := slices.DeleteFunc(slices.Clone(items), func(it *Item) bool { return !it.SupervisedBy(sup) })
				want, wantT := Figures(r, mine, nil, at, env.Bot.Loc)
				if !reflect.DeepEqual(sr.Orgs, want) || sr.Total != wantT {
					t.Errorf("%s's figures %+v\nwant %+v", sup, sr.Orgs, want)
				}
			}
		}
	})
}

// 进度 列表 pages from the newest item with a cursor the reply names;
// following it shows each item once; 我的 shows only the person's.
func TestListPagesNewestFirst(t *testing.T) {
	backends(t, func(t *testing.T, s bot.Store) {
		env := newEnv(t, bottest.WithStore(s))
		items := seedItems(t, env, 130, 3)
		slices.SortFunc(items, func(a, b *Item) int { return strings.Compare(b.ID, a.ID) })
		reID := reNewID
		var seen []string
		line := "进度 列表"
		for page := 0; ; page++ {
			text := bottest.Text(env.Command("wangming", line))
			got := reID.FindAllString(text, -1)
			more := strings.Contains(text, "从:")
			if more {
				got = got[:len(got)-1] // the cursor in the hint
			}
			if len(got) > maxListed {
				t.Fatalf("page %d lists %d", page, len(got))
			}
			seen = append(seen, got...)
			if !more {
				break
			}
			line = "进度 列表 从:" + got[len(got)-1]
			contains(t, text, env.TZ("progress.list.more", "filters", "", "id", got[len(got)-1]))
		}
		var want []string
		for _, it := range items {
			want = append(want, it.ID)
		}
		if !slices.Equal(seen, want) {
			t.Errorf("pages listed %d items %v\nwant %d %v", len(seen), seen, len(want), want)
		}

		// 已销号 for one unit: only those, newest first, through the pages.
		seen, line = nil, "进度 列表 已销号 区财政局党组"
		for {
			text := bottest.Text(env.Command("wangming", line))
			got := reID.FindAllString(text, -1)
			if !strings.Contains(text, "从:") {
				seen = append(seen, got...)
				break
			}
			got = got[:len(got)-1]
			seen = append(seen, got...)
			line = "进度 列表 已销号 区财政局党组 从:" + got[len(got)-1]
		}
		want = nil
		for _, it := range items {
			if it.Status == ItemDone && it.Unit == "finance" {
				want = append(want, it.ID)
			}
		}
		if !slices.Equal(seen, want) {
			t.Errorf("closed finance items listed %v\nwant %v", seen, want)
		}

		// 我的 for a member of group3: the items group3 supervises only.
		text := bottest.Text(env.Command("chenjing", "进度 列表 我的"))
		got := reID.FindAllString(text, -1)
		if strings.Contains(text, "从:") {
			got = got[:len(got)-1]
		}
		want = nil
		for _, it := range items {
			if it.SupervisedBy("group3") && len(want) < maxListed {
				want = append(want, it.ID)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("chenjing's items %v\nwant %v", got, want)
		}
	})
}

// seedChecks stores a stationed check of group3 for each month of 2026
// through SeedCheck, and returns them.
func seedChecks(t *testing.T, env *bottest.Env) []*Check {
	t.Helper()
	var out []*Check
	for mo := time.January; mo <= time.December; mo++ {
		period := fmt.Sprintf("2026-%02d", mo)
		c := &Check{ID: CheckID(CheckStationed, "group3", period), Kind: CheckStationed, Body: "group3", Period: period,
			PromptedAt: time.Date(2026, mo, 5, 9, 0, 0, 0, env.Bot.Loc)}
		out = append(out, c)
	}
	if err := env.Bot.RunUnit(ctx, func(ctx context.Context) error {
		for _, c := range out {
			if err := SeedCheck(ctx, env.Bot.Store, c); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// ChecksPromptedBetween answers from the period index: the checks of
// the months starting in [from, to), and a check prompted by the task
// is indexed with it.
func TestChecksPromptedBetween(t *testing.T) {
	backends(t, func(t *testing.T, s bot.Store) {
		env := newEnv(t, bottest.WithStore(s))
		seedChecks(t, env)
		create(t, env, financeItem)
		at(env, 2027, 1, 5, 9, 0)
		runTask(t, env, TaskStationedCheck)
		checkIndex(t, s)
		q := NewQueries(s, env.Bot.Loc)
		got, err := q.ChecksPromptedBetween(ctx, time.Date(2026, 10, 1, 0, 0, 0, 0, env.Bot.Loc), time.Date(2027, 2, 1, 0, 0, 0, 0, env.Bot.Loc))
		if err != nil {
			t.Fatal(err)
		}
		var periods []string
		for _, c := range got {
			periods = append(periods, c.Period)
		}
		if want := []string{"2026-10", "2026-11", "2026-12", "2027-01"}; !slices.Equal(periods, want) {
			t.Errorf("checks of %v, want %v", periods, want)
		}
	})
}

// A store written without the index gets it from BackfillIndex, once:
// a second call reads only the marker.
func TestBackfillIndex(t *testing.T) {
	backends(t, func(t *testing.T, s bot.Store) {
		env := newEnv(t, bottest.WithStore(s))
		items := seedItems(t, env, 1100, 5) // more than two pages
		seedChecks(t, env)
		// Take the index away, as a store of the version before had it.
		for _, coll := range []string{CollItemIndex, CollItemTitles, CollItemTally, CollCheckIndex} {
			docs, err := s.List(ctx, coll)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range docs {
				if err := s.Delete(ctx, coll, d.ID); err != nil {
					t.Fatal(err)
				}
			}
		}
		n, err := BackfillIndex(ctx, env.Bot)
		if err != nil || n != len(items) {
			t.Fatalf("backfill: %d, %v; want %d", n, err, len(items))
		}
		checkIndex(t, s)
		if n, err := BackfillIndex(ctx, env.Bot); err != nil || n != 0 {
			t.Errorf("second backfill: %d, %v; want 0", n, err)
		}
		checkIndex(t, s)
	})
}

// The monthly notice reads the open items and those closed in its month
// one by one, and the items closed before from the tallies: they count
// in its figures, but only the others are rows of its workbook.
func TestNoticeWorkbookHoldsTheOpenAndLatelyClosedItems(t *testing.T) {
	env := newEnv(t)
	now := env.Clock.Now() // 2026-12-01 09:00
	mk := func(id, title string, status ItemStatus, doneAt time.Time) *Item {
		it := &Item{ID: id, Unit: "finance", Title: title, Deadline: bottest.Day(2027, 3, 31), Supervisors: []string{"room2"},
			Status: status, CreatedAt: now.AddDate(-1, 0, 0), CreatedBy: "lina", Percent: 30,
			Progress: []ProgressEntry{{Time: now.AddDate(-1, 1, 0), Person: "zhoutao", Percent: 30}}}
		if status == ItemDone {
			it.Percent, it.DoneAt, it.CompletedAt = 100, doneAt, doneAt
			it.Progress = append(it.Progress, ProgressEntry{Time: doneAt, Person: "zhoutao", From: 30, Percent: 100})
		}
		return it
	}
	items := []*Item{
		mk("ZG-2026-0001", "早已销号", ItemDone, now.AddDate(0, -3, 0)),
		mk("ZG-2026-0002", "本月销号", ItemDone, now.Add(-time.Hour)),
		mk("ZG-2026-0003", "整改中", ItemOpen, time.Time{}),
	}
	if err := env.Bot.RunUnit(ctx, func(ctx context.Context) error {
		for _, it := range items {
			if err := Seed(ctx, env.Bot.Store, it); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	runTask(t, env, TaskMonthlyNotice)
	f, ok := loadMonth(t, env, "2026-12").FiguresOf("finance")
	if !ok || f.Total != 3 || f.Done != 2 || f.Open != 1 || f.PercentSum != 230 {
		t.Errorf("finance's figures %+v, want 3 items, 2 closed, 1 open, percentages 230", f)
	}
	posted := postedIn(env, "巡察办工作群")
	if len(posted) != 1 || len(posted[0].Files) != 2 {
		t.Fatalf("notice posted %d times", len(posted))
	}
	var listed []string
	for _, row := range sheettest.Table(t, posted[0].Files[1].Data, "整改事项")[1:] {
		listed = append(listed, row[0])
	}
	slices.Sort(listed)
	if want := []string{"ZG-2026-0002", "ZG-2026-0003"}; !slices.Equal(listed, want) {
		t.Errorf("workbook rows %v, want %v", listed, want)
	}
}

// Two units of work creating the same unit's title at once: the title
// key lets exactly one of them have it, on every backend.
func TestConcurrentCreatesOfOneTitle(t *testing.T) {
	backends(t, func(t *testing.T, s bot.Store) {
		env := newEnv(t, bottest.WithStore(s))
		errs := make(chan error, 2)
		start := make(chan struct{})
		for i := range 2 {
			go func() {
				<-start
				errs <- env.Bot.RunUnit(ctx, func(ctx context.Context) error {
					return insert(ctx, env.Bot.Store, &Item{ID: fmt.Sprintf("ZG-2026-%04d", i+1), Unit: "finance", Title: "同一事项",
						Status: ItemOpen, Supervisors: []string{"room2"}, CreatedAt: env.Clock.Now()})
				})
			}()
		}
		close(start)
		ok, refused := 0, 0
		for range 2 {
			switch err := <-errs; {
			case err == nil:
				ok++
			case bot.ErrorCode(err) == bot.EINVALID:
				refused++
			default:
				t.Errorf("create: %v", err)
			}
		}
		if ok != 1 || refused != 1 {
			t.Errorf("%d created, %d refused; want one each", ok, refused)
		}
		all, _ := bot.Records[Item](s, CollItems).List(ctx)
		if len(all) != 1 {
			t.Errorf("%d items stored", len(all))
		}
		checkIndex(t, s)
	})
}
