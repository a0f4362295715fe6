package clue

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/storage/redis/redistest"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
	"github.com/xunji-bot/xunji/storage/redis"
)

// openRedis opens a store on the test Redis under a prefix of its own
// (redistest.Open).
func openRedis(t *testing.T) *redis.Store { return redistest.Open(t, "clue") }

// onBackends runs f on the memory store and on Redis, each with the clue
// commands registered; indexed says whether the store has been through
// the backfill (as at start-up) before f.
func onBackends(t *testing.T, indexed bool, f func(t *testing.T, env *bottest.Env)) {
	for _, backend := range []string{"memory", "redis"} {
		t.Run(backend, func(t *testing.T) {
			var opts []bottest.Option
			if backend == "redis" {
				opts = append(opts, bottest.WithStore(openRedis(t)))
			}
			env := bottest.New(t, opts...)
			if err := Module().Setup(env.Bot, env.Config); err != nil {
				t.Fatal(err)
			}
			if indexed {
				if _, err := BackfillIndex(t.Context(), env.Bot); err != nil {
					t.Fatal(err)
				}
			}
			f(t, env)
		})
	}
}

// indexIDs returns the ids of every index document, in order.
func indexIDs(t *testing.T, s bot.Store) []string {
	t.Helper()
	docs, err := bot.ScanDocs(t.Context(), s, CollIndex, bot.Range{})
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, 0, len(docs))
	for _, d := range docs {
		ids = append(ids, d.ID)
	}
	return ids
}

// wantIndex is the index documents' ids of clues, in order.
func wantIndex(clues ...*Clue) []string {
	var ids []string
	for _, c := range clues {
		ids = append(ids, indexKeys(c)...)
	}
	slices.Sort(ids)
	return ids
}

func testClue(id, body string, created time.Time) *Clue {
	return &Clue{ID: id, FromBody: "team1", Body: body, OrganisationName: "区财政局党组", Title: "t " + id, Substance: "s",
		Deadline: created.AddDate(0, 0, 30), Status: ClueTransferred, CreatedBy: "lina", CreatedAt: created}
}

var errBoom = &bot.Error{Code: bot.EINTERNAL, Err: errors.New("test: the unit fails")}

// A clue's index documents are written in the unit of work that writes
// the clue, and a failed unit leaves neither; an update replaces the
// clue's documents by those of its new state.
func TestIndexWrittenInTheClueUnit(t *testing.T) {
	onBackends(t, true, func(t *testing.T, env *bottest.Env) {
		ctx := t.Context()
		b := env.Bot
		c := testClue("XS-2026-0001", "room2", env.Clock.Now())
		err := b.RunUnit(ctx, func(ctx context.Context) error {
			if err := create(ctx, b, c); err != nil {
				return err
			}
			if got := len(indexIDs(t, b.Store)); got != 0 {
				t.Errorf("outside the unit, %d index documents before it commits", got)
			}
			return errBoom
		})
		if !errors.Is(err, errBoom) {
			t.Fatalf("failed unit: %v", err)
		}
		if _, err := b.Store.Get(ctx, CollClues, c.ID); !bot.IsNotFound(err) {
			t.Fatalf("clue after a failed unit: %v", err)
		}
		if got := indexIDs(t, b.Store); len(got) != 0 {
			t.Fatalf("index after a failed unit: %q", got)
		}
		if err := create(ctx, b, c); err != nil {
			t.Fatal(err)
		}
		if got, want := indexIDs(t, b.Store), wantIndex(c); !slices.Equal(got, want) {
			t.Fatalf("index of a new clue:\n got %q\nwant %q", got, want)
		}
		if !slices.Contains(wantIndex(c), "k\x00"+sortKey(c.ID)) || !slices.Contains(wantIndex(c), "o\x00r:room2\x00"+sortKey(c.ID)) {
			t.Fatalf("a new clue is not awaiting acknowledgement and open: %q", wantIndex(c))
		}
		conclude := func(v *Clue) error {
			v.Status, v.Conclusion, v.ClosedAt, v.AckAt = ClueConcluded, DisposalTalk, env.Clock.Now(), env.Clock.Now()
			v.Joint = append(v.Joint, "group3")
			return nil
		}
		err = b.RunUnit(ctx, func(ctx context.Context) error {
			if _, err := update(ctx, b, c.ID, conclude); err != nil {
				return err
			}
			return errBoom
		})
		if !errors.Is(err, errBoom) {
			t.Fatalf("failed unit: %v", err)
		}
		if got, want := indexIDs(t, b.Store), wantIndex(c); !slices.Equal(got, want) {
			t.Fatalf("index after a failed update:\n got %q\nwant %q", got, want)
		}
		done, err := update(ctx, b, c.ID, conclude)
		if err != nil {
			t.Fatal(err)
		}
		got, want := indexIDs(t, b.Store), wantIndex(done)
		if !slices.Equal(got, want) {
			t.Fatalf("index after the update:\n got %q\nwant %q", got, want)
		}
		for _, id := range got {
			if strings.HasPrefix(id, "o\x00") || strings.HasPrefix(id, "k\x00") || strings.HasPrefix(id, "d\x00") {
				t.Errorf("a concluded clue is still indexed as open: %q", id)
			}
		}
		if !slices.Contains(got, "c\x00"+timeKey(done.ClosedAt)+"\x00"+sortKey(c.ID)) || !slices.Contains(got, "a\x00b:group3\x00"+sortKey(c.ID)) {
			t.Errorf("the concluded clue is not indexed as closed and known to the joint body: %q", got)
		}
		// The rows carry what lists show, never the substance.
		docs, err := bot.ScanDocs(ctx, b.Store, CollIndex, bot.Range{})
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range docs {
			row, err := decodeRow(d)
			if err != nil {
				t.Fatal(err)
			}
			if row.ID != c.ID || row.Status != ClueConcluded || row.Title != c.Title || row.Substance != "" || row.History != nil {
				t.Errorf("row %q: %+v", d.ID, row)
			}
		}
	})
}

// listIDs returns the clue ids of a list answer, in order, and the id
// of its from: cursor ("" without one).
func listIDs(text string) (ids []string, next string) {
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "• ") {
			ids = append(ids, strings.Fields(line)[1])
		}
		if i := strings.Index(line, "从:"); i >= 0 {
			next = strings.TrimRight(line[i+len("从:"):], "」")
		}
	}
	return ids, next
}

// seedClues stores n clues of year y numbered from 1, received by the
// bodies in turn, one an hour.
func seedClues(t *testing.T, env *bottest.Env, y, n int, bodies ...string) []*Clue {
	t.Helper()
	var out []*Clue
	base := time.Date(y, 1, 2, 9, 0, 0, 0, env.Bot.Loc)
	for i := range n {
		c := testClue(fmt.Sprintf("XS-%d-%04d", y, i+1), bodies[i%len(bodies)], base.Add(time.Duration(i)*time.Hour))
		if err := Seed(t.Context(), env.Store, c); err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

// pages follows a list's from: cursors to the end and returns every id
// shown, in order, and how many pages it took.
func pages(t *testing.T, env *bottest.Env, person, line string) ([]string, int) {
	t.Helper()
	var all []string
	n := 0
	next := ""
	for {
		l := line
		if next != "" {
			l += " 从:" + next
		}
		text := bottest.Text(direct(env, person, l))
		ids, nx := listIDs(text)
		if len(ids) == 0 && nx == "" && n > 0 {
			t.Fatalf("%s: an empty page after a cursor:\n%s", l, text)
		}
		all = append(all, ids...)
		n++
		if nx == "" {
			return all, n
		}
		if n > 20 {
			t.Fatalf("%s: no end to the pages", line)
		}
		next = nx
	}
}

// The list pages newest first, maxListed a page, with a cursor to the
// next page that shows each clue once; numbers sort as numbers across
// years and past 9999.
func TestListPagesNewestFirstWithCursor(t *testing.T) {
	onBackends(t, true, func(t *testing.T, env *bottest.Env) {
		older := seedClues(t, env, 2025, 30, "room2")
		newer := seedClues(t, env, 2026, 90, "room2", "room1")
		big := testClue("XS-2026-10000", "room2", time.Date(2026, 11, 1, 9, 0, 0, 0, env.Bot.Loc))
		if err := Seed(t.Context(), env.Store, big); err != nil {
			t.Fatal(err)
		}
		var want []string
		want = append(want, big.ID)
		for i := len(newer) - 1; i >= 0; i-- {
			want = append(want, newer[i].ID)
		}
		for i := len(older) - 1; i >= 0; i-- {
			want = append(want, older[i].ID)
		}
		first := bottest.Text(direct(env, "wangming", "线索 列表"))
		ids, next := listIDs(first)
		if len(ids) != maxListed || ids[0] != big.ID || next != ids[len(ids)-1] {
			t.Fatalf("first page: %d rows from %v, next %q:\n%s", len(ids), ids[:min(3, len(ids))], next, first)
		}
		bottest.MustContain(t, "first page", first, env.TZ("clue.list.more", "filters", "", "id", next))
		got, n := pages(t, env, "wangming", "线索 列表")
		if !slices.Equal(got, want) || n != 3 {
			t.Fatalf("office's pages (%d): %v\nwant %v", n, got, want)
		}
		// A filter is kept in the cursor's command and applies on every page.
		text := bottest.Text(direct(env, "wangming", "线索 列表 单位:第一监督检查室"))
		bottest.MustNotContain(t, "body filter", text, "→ 区纪委监委第二监督检查室")
		got, _ = pages(t, env, "wangming", "线索 列表 单位:第一监督检查室")
		var room1 []string
		for i := len(newer) - 1; i >= 0; i-- {
			if newer[i].Body == "room1" {
				room1 = append(room1, newer[i].ID)
			}
		}
		if !slices.Equal(got, room1) {
			t.Fatalf("room1's clues: %v\nwant %v", got, room1)
		}
		if _, nx := listIDs(bottest.Text(direct(env, "wangming", "clue list from:"+want[len(want)-1]))); nx != "" {
			t.Errorf("after the oldest clue: a cursor %q", nx)
		}
		bottest.MustContain(t, "bad cursor", bottest.Text(direct(env, "wangming", "线索 列表 从:第一条")), "第一条")
	})
}

// A page holds only clues its reader may know of, however far it pages:
// a receiving body's member sees its clues and those it verifies jointly,
// never a count of the others; a body with none sees the empty answer.
func TestListPagesOnlyEntitledClues(t *testing.T) {
	onBackends(t, true, func(t *testing.T, env *bottest.Env) {
		ctx := t.Context()
		clues := seedClues(t, env, 2026, 130, "room1", "room1", "room2")
		// room2 also verifies XS-2026-0001 jointly.
		if _, err := update(ctx, env.Bot, clues[0].ID, func(v *Clue) error { v.Joint = []string{"room2"}; return nil }); err != nil {
			t.Fatal(err)
		}
		var want []string
		for i := len(clues) - 1; i >= 0; i-- {
			if clues[i].Body == "room2" || i == 0 {
				want = append(want, clues[i].ID)
			}
		}
		got, _ := pages(t, env, "zhaoqiang", "线索 列表")
		if !slices.Equal(got, want) {
			t.Fatalf("room2's pages: %v\nwant %v", got, want)
		}
		for _, who := range []string{"chenjing", "zhoutao"} {
			text := bottest.Text(direct(env, who, "线索 列表"))
			if who == "zhoutao" {
				// An inspected unit may not use the command at all.
				bottest.MustNotContain(t, who, text, "XS-")
				continue
			}
			bottest.MustContain(t, who, text, env.TZ("clue.list.empty"))
			bottest.MustNotContain(t, who, text, "XS-", "从:")
		}
		// The transferring team sees all it transferred.
		got, _ = pages(t, env, "zhangwei", "线索 列表 我的")
		if len(got) != len(clues) {
			t.Fatalf("team1 sees %d of the %d clues it transferred", len(got), len(clues))
		}
	})
}

// The backfill indexes a store written without the index, in pages, as
// save would have; a second run reads only its marker; until it has run
// the queries answer from the collection, the same.
func TestBackfillIndex(t *testing.T) {
	onBackends(t, false, func(t *testing.T, env *bottest.Env) {
		ctx := t.Context()
		base := time.Date(2026, 3, 2, 9, 0, 0, 0, env.Bot.Loc)
		coll := bot.Records[Clue](env.Store, CollClues)
		var clues []*Clue
		for i := range 2*backfillPage + 17 {
			c := testClue(fmt.Sprintf("XS-2026-%04d", i+1), []string{"room1", "room2", "group3"}[i%3], base.Add(time.Duration(i)*time.Hour))
			if i%4 == 0 {
				c.Status, c.ClosedAt = ClueConcluded, c.CreatedAt.AddDate(0, 1, 0)
			}
			if err := coll.Put(ctx, c.ID, c); err != nil { // as an older version wrote
				t.Fatal(err)
			}
			clues = append(clues, c)
		}
		q := NewQueries(env.Store, env.Bot.Loc)
		at := base.AddDate(0, 3, 0)
		before, err := q.OverdueAt(ctx, at)
		if err != nil {
			t.Fatal(err)
		}
		if len(before) == 0 {
			t.Fatal("no overdue clue to compare")
		}
		n, err := BackfillIndex(ctx, env.Bot)
		if err != nil || n != len(clues) {
			t.Fatalf("backfill: %d, %v; want %d", n, err, len(clues))
		}
		if got, want := indexIDs(t, env.Store), wantIndex(clues...); !slices.Equal(got, want) {
			t.Fatalf("backfilled index: %d documents, want %d", len(got), len(want))
		}
		if n, err := BackfillIndex(ctx, env.Bot); err != nil || n != 0 {
			t.Fatalf("second backfill: %d, %v", n, err)
		}
		after, err := q.OverdueAt(ctx, at)
		if err != nil {
			t.Fatal(err)
		}
		ids := func(cs []*Clue) []string {
			var out []string
			for _, c := range cs {
				out = append(out, c.ID)
			}
			return out
		}
		if !slices.Equal(ids(before), ids(after)) {
			t.Fatalf("overdue from the index %v, from the collection %v", ids(after), ids(before))
		}
	})
}

// The index answers every query as the definitions over the whole
// collection do, on random clues at random moments.
func TestQueriesMatchTheirDefinitions(t *testing.T) {
	env := newEnv(t)
	ctx := t.Context()
	rnd := rand.New(rand.NewPCG(16, 2026))
	loc := env.Bot.Loc
	base := time.Date(2025, 1, 1, 9, 0, 0, 0, loc)
	bodies := []string{"room1", "room2", "group3", "sup_hexi"}
	var clues []*Clue
	for i := range 300 {
		created := base.Add(time.Duration(rnd.IntN(700*24)) * time.Hour)
		c := testClue(fmt.Sprintf("XS-%d-%04d", created.Year(), i+1), bodies[rnd.IntN(len(bodies))], created)
		c.Deadline = bot.Midnight(created.AddDate(0, 0, 10+rnd.IntN(120)), loc)
		switch rnd.IntN(5) {
		case 0:
			c.Status, c.AckAt = ClueAcknowledged, created.Add(time.Hour)
		case 1:
			c.Status, c.AckAt, c.VerifyAt = ClueVerifying, created.Add(time.Hour), created.Add(48*time.Hour)
		case 2:
			c.Status, c.AckAt, c.ClosedAt, c.Conclusion = ClueConcluded, created.Add(time.Hour), created.Add(time.Duration(1+rnd.IntN(200*24))*time.Hour), DisposalTalk
		case 3:
			c.Status = ClueReturned // closed at a time not recorded
		}
		if err := Seed(ctx, env.Store, c); err != nil {
			t.Fatal(err)
		}
		clues = append(clues, c)
	}
	q := NewQueries(env.Store, loc)
	ids := func(cs []*Clue) []string {
		var out []string
		for _, c := range cs {
			out = append(out, c.ID)
		}
		slices.SortFunc(out, func(a, b string) int { return strings.Compare(sortKey(a), sortKey(b)) })
		return out
	}
	filter := func(keep func(*Clue) bool) []string {
		var out []*Clue
		for _, c := range clues {
			if keep(c) {
				out = append(out, c)
			}
		}
		return ids(out)
	}
	for k := range 40 {
		at := base.Add(time.Duration(rnd.IntN(800*24)) * time.Hour)
		from := at.AddDate(0, -1-rnd.IntN(3), 0)
		got, err := q.OverdueAt(ctx, at)
		if err != nil {
			t.Fatal(err)
		}
		if w := filter(func(c *Clue) bool { return c.OverdueAt(at, loc) }); !slices.Equal(ids(got), w) {
			t.Fatalf("%d: OverdueAt(%s): %v\nwant %v", k, at, ids(got), w)
		}
		got, err = q.ActiveDuring(ctx, from, at)
		if err != nil {
			t.Fatal(err)
		}
		period := filter(func(c *Clue) bool { return InPeriod(c, from, at) })
		for _, id := range period {
			if !slices.Contains(ids(got), id) {
				t.Fatalf("%d: ActiveDuring(%s, %s) misses %s of the period", k, from, at, id)
			}
		}
		if w := filter(func(c *Clue) bool {
			return !c.CreatedAt.After(at) && (c.Open() || c.ClosedAt.IsZero() || !c.ClosedAt.Before(from))
		}); !slices.Equal(ids(got), w) {
			t.Fatalf("%d: ActiveDuring: %v\nwant %v", k, ids(got), w)
		}
	}
	for _, body := range bodies {
		got, err := q.OpenReceivedBy(ctx, body)
		if err != nil {
			t.Fatal(err)
		}
		if w := filter(func(c *Clue) bool { return c.Open() && c.Body == body }); !slices.Equal(ids(got), w) {
			t.Fatalf("OpenReceivedBy(%s): %v\nwant %v", body, ids(got), w)
		}
	}
}

// countingStore counts the documents its scans return.
type countingStore struct {
	bot.Store
	docs int
}

func (s *countingStore) Scan(ctx context.Context, coll string, r bot.Range) ([]bot.Doc, error) {
	docs, err := bot.ScanDocs(ctx, s.Store, coll, r)
	s.docs += len(docs)
	return docs, err
}

// A narrow filter over a long history reads at most the budget a page
// (and a chunk more for each stream's look-ahead), and its pages together
// show every match once, newest first, however many pages come out
// empty on the way.
func TestListPageReadsAtMostItsBudget(t *testing.T) {
	env := newEnv(t)
	ctx := t.Context()
	clues := seedClues(t, env, 2026, 400, "room1", "room2")
	var want []string
	for i := len(clues) - 1; i >= 0; i-- {
		if i%37 == 0 {
			if _, err := update(ctx, env.Bot, clues[i].ID, func(v *Clue) error { v.Priority = true; return nil }); err != nil {
				t.Fatal(err)
			}
			want = append(want, clues[i].ID)
		}
	}
	const budget, pageRows = 60, 3
	cs := &countingStore{Store: env.Store}
	src := &source{s: cs}
	f := listFilter{priority: true}
	prefixes := f.prefixes(env.Bot.People.BaseRoster(), env.Person("wangming"))
	var got []string
	from := ""
	for n := 0; ; n++ {
		cs.docs = 0
		pg, err := src.newest(ctx, prefixes, from, pageRows, budget, func(c *Clue) bool { return c.Priority })
		if err != nil {
			t.Fatal(err)
		}
		if limit := budget + max(pageRows+1, 50); cs.docs > limit {
			t.Fatalf("page %d read %d index documents, more than %d", n, cs.docs, limit)
		}
		if len(pg.rows) > pageRows {
			t.Fatalf("page %d has %d rows", n, len(pg.rows))
		}
		for _, c := range pg.rows {
			got = append(got, c.ID)
		}
		if pg.next == "" {
			break
		}
		if n > 100 {
			t.Fatal("no end to the pages")
		}
		from = pg.next
	}
	if !slices.Equal(got, want) {
		t.Fatalf("priority pages: %v\nwant %v", got, want)
	}
}

func (s *countingStore) List(ctx context.Context, coll string) ([]bot.Doc, error) {
	docs, err := s.Store.List(ctx, coll)
	s.docs += len(docs)
	return docs, err
}

// The reminder job reads the clues awaiting acknowledgement and those
// near their deadline, not the history: hundreds of concluded clues cost
// it nothing, and it still reminds the two that are due.
func TestReminderJobReadsOnlyDueClues(t *testing.T) {
	cs := &countingStore{Store: bottest.NewMem()}
	env := bottest.New(t, bottest.WithStore(cs))
	if err := Module().Setup(env.Bot, env.Config); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if _, err := BackfillIndex(ctx, env.Bot); err != nil {
		t.Fatal(err)
	}
	now := at(12, 8, 10, 0) // a Tuesday
	old := seedClues(t, env, 2025, 300, "room1", "room2")
	for _, c := range old {
		if _, err := update(ctx, env.Bot, c.ID, func(v *Clue) error {
			v.Status, v.AckAt, v.ClosedAt, v.Conclusion = ClueConcluded, v.CreatedAt.Add(time.Hour), v.CreatedAt.AddDate(0, 1, 0), DisposalTalk
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	waiting := testClue("XS-2026-0001", "room2", at(12, 1, 9, 0)) // reminder due on 12-03
	near := testClue("XS-2026-0002", "room2", at(11, 2, 9, 0))
	near.Status, near.AckAt, near.Deadline = ClueAcknowledged, at(11, 2, 10, 0), bottest.Day(2026, 12, 10)
	far := testClue("XS-2026-0003", "room2", at(11, 2, 9, 0))
	far.Status, far.AckAt, far.Deadline = ClueAcknowledged, at(11, 2, 10, 0), bottest.Day(2027, 3, 10)
	for _, c := range []*Clue{waiting, near, far} {
		if err := Seed(ctx, env.Store, c); err != nil {
			t.Fatal(err)
		}
	}
	cs.docs = 0
	var job bot.Job
	for _, j := range env.Bot.Jobs.All() {
		if j.Name == "clue.reminders" {
			job = j
		}
	}
	env.Clock.Set(now)
	if err := job.Run(ctx, now); err != nil {
		t.Fatal(err)
	}
	// The two rows it needs, the roster and the documents of the two
	// reminders' units; nothing in proportion to the 300 old clues.
	if cs.docs > 40 {
		t.Errorf("the reminder job read %d documents", cs.docs)
	}
	for id, action := range map[string]string{waiting.ID: "clue.remind", near.ID: "clue.remind_deadline"} {
		if es := audits(t, env, func(e bot.AuditEntry) bool { return e.Record == id && e.Action == action }); len(es) != 1 {
			t.Errorf("%s: %d %s entries, want 1", id, len(es), action)
		}
	}
	if es := audits(t, env, func(e bot.AuditEntry) bool { return e.Record == far.ID }); len(es) != 0 {
		t.Errorf("a deadline three months away was reminded: %v", es)
	}
}
