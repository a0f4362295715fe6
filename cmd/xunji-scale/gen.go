package main

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/xunji-bot/xunji/commands/progress"
	"github.com/xunji-bot/xunji/commands/round"

	"github.com/xunji-bot/xunji/adapters/console"
	"github.com/xunji-bot/xunji/adapters/lark"
	"github.com/xunji-bot/xunji/adapters/slack"
	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/config"
)

// The sizes of the issue: S is one district's year, M ten times it, L
// fifty times. M and L spread over ten years (the district's decade),
// L with five times the yearly volume; meetings, progress months and
// checks follow the calendar, so they grow with the years, not with the
// volume.
var sizes = map[string]struct {
	Mult  float64
	Years int
}{
	"T": {0.05, 1}, // tiny, for the test: 1/20 of S
	"S": {1, 1},
	"M": {10, 10},
	"L": {50, 10},
}

// Yearly volumes of S.
const (
	sClues   = 200
	sItems   = 494
	sCosigns = 50
	sAudit   = 20000
	sRounds  = 8
)

// Stats is what the generator made, per collection, and the records the
// timed operations use.
type Stats struct {
	Size     string           `json:"size"`
	Years    int              `json:"years"`
	Counts   map[string]int   `json:"counts"`
	Clue     string           `json:"clue"`   // a concluded clue of the last year, for 线索 记录 / 查看
	Cosign   string           `json:"cosign"` // a co-signature of the last year, for 会签 查看
	Elapsed  time.Duration    `json:"elapsed"`
	Counters map[string]int64 `json:"counters"`
}

// now is the generated data's present: Tuesday 2026-12-01 09:00 in
// Shanghai, the first working day of December 2026 (the monthly notice's
// day). Everything generated lies before it.
func scaleNow(loc *time.Location) time.Time { return time.Date(2026, 12, 1, 9, 0, 0, 0, loc) }

// gen generates one size into a store through the bot's units of work.
type gen struct {
	rnd    *rand.Rand
	cfg    *config.Config
	loc    *time.Location
	now    time.Time
	first  int // first year
	last   int // last year (the present's)
	w      *writer
	raw    bot.Store // the backend, for the counters
	stats  *Stats
	audits []bot.AuditEntry // the current year's, written sorted by time
	seq    int64            // audit sequence
	ids    map[string]int64 // id counters: "id:XS:2026" -> last number
	rounds []*round.Round   // the current year's
	items  []*progress.Item // the current year's

	sampleConcluded, sampleComplete bool // whether the sample clue is concluded, the sample co-signature complete
}

func newGen(b *bot.Bot, raw bot.Store, cfg *config.Config, size string, batch int) (*gen, error) {
	sz, ok := sizes[size]
	if !ok {
		return nil, fmt.Errorf("unknown size %q (T, S, M, L)", size)
	}
	loc := cfg.Location()
	now := scaleNow(loc)
	g := &gen{
		rnd: rand.New(rand.NewPCG(2026, 16)), cfg: cfg, loc: loc, now: now,
		first: now.Year() - sz.Years + 1, last: now.Year(),
		w: &writer{b: b, batch: batch}, raw: raw,
		stats: &Stats{Size: size, Years: sz.Years, Counts: map[string]int{}},
		ids:   map[string]int64{},
	}
	return g, nil
}

// perYear splits total over the years, the remainder to the later ones.
func perYear(total, years, i int) int { return total*(i+1)/years - total*i/years }

func scaled(n int, mult float64) int { return max(1, int(math.Round(float64(n)*mult))) }

// run generates every year and sets the counters the commands continue
// from.
func (g *gen) run(ctx context.Context) error {
	start := time.Now()
	sz := sizes[g.stats.Size]
	years := sz.Years
	n := struct{ clues, items, cosigns, audit, rounds int }{
		scaled(sClues, sz.Mult), scaled(sItems, sz.Mult), scaled(sCosigns, sz.Mult), scaled(sAudit, sz.Mult), scaled(sRounds, sz.Mult),
	}
	for i := range years {
		y := g.first + i
		if err := g.genRounds(ctx, y, perYear(n.rounds, years, i)); err != nil {
			return err
		}
		if err := g.genClues(ctx, y, perYear(n.clues, years, i)); err != nil {
			return err
		}
		if err := g.genItems(ctx, y, perYear(n.items, years, i)); err != nil {
			return err
		}
		if err := g.genCosigns(ctx, y, perYear(n.cosigns, years, i)); err != nil {
			return err
		}
		if err := g.genMonths(ctx, y); err != nil {
			return err
		}
		if err := g.genChecks(ctx, y); err != nil {
			return err
		}
		if err := g.genMeetings(ctx, y); err != nil {
			return err
		}
		if err := g.genConsults(ctx, y); err != nil {
			return err
		}
		// The rest of the year's audit trail: reads, reports, settings.
		want := perYear(n.audit, years, i)
		for k := len(g.audits); k < want; k++ {
			g.fillerAudit(y)
		}
		if err := g.flushAudit(ctx); err != nil {
			return err
		}
	}
	if err := g.w.flush(ctx); err != nil {
		return err
	}
	// The counters continue after what was generated, as if the commands
	// had made it: the next audit entry and record numbers follow on.
	counters := map[string]int64{"audit": g.seq}
	for k, v := range g.ids {
		counters[k] = v
	}
	if err := setCounters(ctx, g.raw, counters); err != nil {
		return err
	}
	g.stats.Counters = counters
	g.stats.Elapsed = time.Since(start)
	return nil
}

// nextID returns the next record id for prefix in year y.
func (g *gen) nextID(prefix string, y int) string {
	k := fmt.Sprintf("id:%s:%d", prefix, y)
	g.ids[k]++
	return fmt.Sprintf("%s-%d-%04d", prefix, y, g.ids[k])
}

// yearTime is a random working-hours moment of year y, before now.
func (g *gen) yearTime(y int) time.Time {
	from := time.Date(y, 1, 1, 0, 0, 0, 0, g.loc)
	to := time.Date(y+1, 1, 1, 0, 0, 0, 0, g.loc)
	if to.After(g.now) {
		to = g.now.Add(-24 * time.Hour)
	}
	days := int(to.Sub(from).Hours() / 24)
	d := from.AddDate(0, 0, g.rnd.IntN(max(1, days)))
	return time.Date(d.Year(), d.Month(), d.Day(), 9+g.rnd.IntN(8), g.rnd.IntN(60), g.rnd.IntN(60), 0, g.loc)
}

// between is a random moment in [a, b] (a when b is not after it).
func (g *gen) between(a, b time.Time) time.Time {
	if !b.After(a) {
		return a
	}
	return a.Add(time.Duration(g.rnd.Int64N(int64(b.Sub(a)))))
}

// after is a moment days (plus up to a day) after t, never after now.
func (g *gen) after(t time.Time, minDays, maxDays int) time.Time {
	d := t.Add(time.Duration(minDays)*24*time.Hour + time.Duration(g.rnd.Int64N(int64(max(1, maxDays-minDays+1))*int64(24*time.Hour))))
	if d.After(g.now) {
		d = g.between(t, g.now.Add(-time.Minute))
	}
	return d
}

func (g *gen) day(t time.Time) time.Time {
	t = t.In(g.loc)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, g.loc)
}

func (g *gen) pick(s []string) string { return s[g.rnd.IntN(len(s))] }

func (g *gen) chance(p float64) bool { return g.rnd.Float64() < p }

// The demo district (bot/config/demo.yaml): who does what.
var (
	officePeople  = []string{"wangming"}
	teamPeople    = map[string][]string{"team1": {"lina", "zhangwei"}, "team2": {"gaofeng"}}
	teams         = []string{"team1", "team2"}
	receivers     = []string{"room1", "room2", "group3", "sup_chengguan", "sup_hexi"}
	bodyPeople    = map[string][]string{"room1": {"hejun"}, "room2": {"zhaoqiang"}, "group3": {"chenjing"}, "sup_chengguan": {"liuyang"}, "sup_hexi": {"luoxia"}, "case": {"sunli"}, "finance": {"zhoutao"}, "housing": {"maping"}, "chengguan": {"wufang"}, "org_dept": {"hejun"}, "audit": {"maping"}, "staffing": {"gaofeng"}, "petitions": {"luoxia"}, "office": {"wangming"}, "team1": {"lina", "zhangwei"}, "team2": {"gaofeng"}}
	units         = []string{"finance", "housing", "chengguan"}
	unitNames     = map[string]string{"finance": "区财政局", "housing": "区住建局", "chengguan": "城关镇"}
	consultDepts  = []string{"org_dept", "audit", "staffing", "petitions"}
	supervisors   = []string{"room1", "room2", "group3", "sup_chengguan", "sup_hexi"}
	clueTopics    = []string{"违规发放津贴补贴", "公务接待超标准", "工程项目招投标不规范", "违规使用公务用车", "套取专项资金", "收受礼品礼金", "违规兼职取酬", "虚报冒领补助资金"}
	itemTopics    = []string{"公务用车登记不规范", "财务报销审核不严", "三重一大决策程序不完善", "专项资金管理不规范", "政府采购程序不规范", "基层党组织生活不规范", "固定资产管理混乱", "合同管理不规范", "干部选拔任用程序不严", "巡察反馈问题台账不全"}
	platforms     = []bot.Platform{slack.Name, lark.Name, lark.Name, console.Name}
	fillerActions = []string{"assess.show", "clue.summary", "progress.export", "prefs.lang", "progress.remind", "progress.notice.body", "report.draft"}
)

// platform is where a person did something: Lark mostly.
func (g *gen) platform() bot.Platform { return platforms[g.rnd.IntN(len(platforms))] }

func (g *gen) personOf(body string) string { return g.pick(bodyPeople[body]) }

// sortAudit orders the year's entries by time before they get numbers.
func sortAudit(es []bot.AuditEntry) {
	slices.SortStableFunc(es, func(a, b bot.AuditEntry) int { return a.Time.Compare(b.Time) })
}
