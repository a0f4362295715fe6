package clue_test

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/bot/bottest"
	"github.com/xunji-bot/xunji/commands/clue"
	"github.com/xunji-bot/xunji/commands/progress"
)

// The monthly notice's clue section computed from ActiveDuring (the open
// clues and those closed since the period began, from the index) equals
// the one computed from every clue created until the notice, on random
// clues at random moments: the period query leaves out only clues the
// notice does not count.
func TestNoticeClueSectionFromActiveDuring(t *testing.T) {
	env := bottest.New(t)
	if err := clue.Module().Setup(env.Bot, env.Config); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if _, err := clue.BackfillIndex(ctx, env.Bot); err != nil {
		t.Fatal(err)
	}
	loc := env.Bot.Loc
	rnd := rand.New(rand.NewPCG(2026, 12))
	base := time.Date(2025, 1, 1, 9, 0, 0, 0, loc)
	bodies := []string{"room1", "room2", "group3"}
	for i := range 250 {
		created := base.Add(time.Duration(rnd.IntN(600*24)) * time.Hour)
		c := &clue.Clue{ID: fmt.Sprintf("XS-%d-%04d", created.Year(), i+1), FromBody: "team1", Body: bodies[rnd.IntN(3)],
			OrganisationName: "区财政局党组", Title: "t", Substance: "s", Status: clue.ClueTransferred, CreatedBy: "lina",
			CreatedAt: created, UpdatedAt: created, Deadline: created.AddDate(0, 0, 20+rnd.IntN(100)), Priority: rnd.IntN(5) == 0}
		switch rnd.IntN(4) {
		case 0:
			c.Status, c.AckAt = clue.ClueAcknowledged, created.Add(2*time.Hour)
		case 1:
			c.Status, c.AckAt, c.Conclusion = clue.ClueConcluded, created.Add(2*time.Hour), clue.DisposalTalk
			c.ClosedAt = created.Add(time.Duration(24+rnd.IntN(150*24)) * time.Hour)
		case 2:
			c.Status, c.UpdatedAt = clue.ClueReturned, created.Add(time.Duration(rnd.IntN(90*24))*time.Hour) // no closing time kept
		}
		if err := clue.Seed(ctx, env.Store, c); err != nil {
			t.Fatal(err)
		}
	}
	q := clue.NewQueries(env.Store, loc)
	r := env.Bot.People.BaseRoster()
	nonEmpty := 0
	for k := range 40 {
		at := base.Add(time.Duration(rnd.IntN(700*24)) * time.Hour)
		from := at.AddDate(0, -1, -rnd.IntN(20))
		all, err := q.CreatedUntil(ctx, at)
		if err != nil {
			t.Fatal(err)
		}
		active, err := q.ActiveDuring(ctx, from, at)
		if err != nil {
			t.Fatal(err)
		}
		want := progress.ClueHandling(r, all, from, at, loc)
		got := progress.ClueHandling(r, active, from, at, loc)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%d: period %s – %s: the notice's clue section from ActiveDuring differs:\n got %+v\nwant %+v", k, from, at, got, want)
		}
		if len(want.Rows) > 0 && len(want.Rows) < len(all) {
			nonEmpty++
		}
	}
	if nonEmpty < 20 {
		t.Fatalf("only %d of the 40 periods count some but not all clues", nonEmpty)
	}
}
