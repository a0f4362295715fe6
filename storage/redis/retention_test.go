package redis

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/xunji-bot/xunji/bot"
)

// An expiring document is one key with the document's time to live (PX),
// and no index entry that would outlive it.
func TestPutExpiringKeyLayout(t *testing.T) {
	ctx := t.Context()
	prefix := testPrefix()
	s := openTest(t, prefix)
	const ttl = 15 * 24 * time.Hour
	if err := s.PutExpiring(ctx, "outbox_sent", "000000000001", []byte(`{"id":"om_1"}`), ttl); err != nil {
		t.Fatal(err)
	}
	c := s.Client()
	key := prefix + "doc:outbox_sent:000000000001"
	if got, err := c.PTTL(ctx, key).Result(); err != nil || got <= ttl-time.Minute || got > ttl {
		t.Errorf("PTTL = %v, %v; want about %v", got, err, ttl)
	}
	if n, err := c.Exists(ctx, prefix+"idx:outbox_sent").Result(); err != nil || n != 0 {
		t.Errorf("index key exists = %d, %v; want none", n, err)
	}
	if got, err := s.Get(ctx, "outbox_sent", "000000000001"); err != nil || string(got) != `{"id":"om_1"}` {
		t.Errorf("Get = %s, %v", got, err)
	}
	keys, err := c.Keys(ctx, prefix+"*").Result()
	if err != nil || len(keys) != 1 {
		t.Errorf("keys under prefix = %v, %v; want the document only", keys, err)
	}
}

// The dedupe claim a unit of work renews at commit (the inbox completion)
// and the one Dequeue renews carry their time to live: Redis drops them.
func TestDedupeClaimsCarryTheirTTL(t *testing.T) {
	ctx := t.Context()
	prefix := testPrefix()
	s := openTest(t, prefix)
	if err := s.Commit(ctx, &bot.Commit{Writes: []bot.Write{{Kind: bot.WriteClaim, Name: "event:lark:E1", TTL: bot.DedupeTTL}}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Dequeue(ctx, bot.InboxOp{Coll: "inbox", ID: "ev:slack:E2", Claim: "event:slack:E2", ClaimTTL: bot.DedupeTTL}); err != nil {
		t.Fatal(err)
	}
	c := s.Client()
	for _, key := range []string{prefix + "claim:event:lark:E1", prefix + "claim:event:slack:E2"} {
		got, err := c.PTTL(ctx, key).Result()
		if err != nil || got <= bot.DedupeTTL-time.Minute || got > bot.DedupeTTL {
			t.Errorf("%s expires in %v (%v), want about %v", key, got, err, bot.DedupeTTL)
		}
	}
}

// List pages through a collection bigger than a page, in id order, and
// leaves out what a concurrent delete removed.
func TestListPagesThroughABigCollection(t *testing.T) {
	ctx := t.Context()
	prefix := testPrefix()
	s := openTest(t, prefix)
	const n = 2*listPage + 17
	p := s.Client().Pipeline()
	var want []string
	for i := range n {
		id := fmt.Sprintf("%06d", i)
		p.Set(ctx, s.docKey("big", id), id, 0)
		p.ZAdd(ctx, s.idxKey("big"), redis.Z{Member: id})
		if i%100 != 7 {
			want = append(want, id)
		}
	}
	if _, err := p.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	for i := 7; i < n; i += 100 { // deleted documents whose index entry stays
		if err := s.Client().Del(ctx, s.docKey("big", fmt.Sprintf("%06d", i))).Err(); err != nil {
			t.Fatal(err)
		}
	}
	cmds := &recorder{}
	s.Client().AddHook(cmds)
	docs, err := s.List(ctx, "big")
	if err != nil {
		t.Fatal(err)
	}
	// Bounded commands only: index pages of listPage ids, MGETs of at
	// most mgetChunk keys.
	pages, mgets := 0, 0
	for _, args := range cmds.all() {
		switch name := fmt.Sprint(args[0]); name {
		case "zrangebylex":
			pages++
			if len(args) != 7 || fmt.Sprint(args[5]) != "0" || fmt.Sprint(args[6]) != fmt.Sprint(listPage) {
				t.Errorf("unbounded index read %v", args)
			}
		case "mget":
			mgets++
			if len(args)-1 > mgetChunk {
				t.Errorf("MGET of %d keys", len(args)-1)
			}
		default:
			t.Errorf("List sent %v", args[:min(len(args), 4)])
		}
	}
	// 500 + 500 + 17 ids, each page read in MGETs of mgetChunk keys.
	wantMGETs := 2*((listPage+mgetChunk-1)/mgetChunk) + 1
	if pages != 3 || mgets != wantMGETs {
		t.Errorf("List read %d index pages and sent %d MGETs, want 3 and %d", pages, mgets, wantMGETs)
	}
	got := make([]string, 0, len(docs))
	for _, d := range docs {
		if string(d.Data) != d.ID {
			t.Fatalf("document %s holds %s", d.ID, d.Data)
		}
		got = append(got, d.ID)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("List gave %d ids, want %d in order", len(got), len(want))
	}
}

// A backup holds the records, not the expiring delivery records.
func TestExportLeavesOutExpiringDocuments(t *testing.T) {
	ctx := t.Context()
	s := openTest(t, testPrefix())
	if err := s.Put(ctx, "clues", "c1", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	if err := s.PutExpiring(ctx, "outbox_sent", "000000000001", []byte("{}"), time.Hour); err != nil {
		t.Fatal(err)
	}
	entries, err := s.Export(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var colls []string
	for _, e := range entries {
		colls = append(colls, e.Coll+"/"+e.Key)
	}
	if !slices.Equal(colls, []string{"clues/c1"}) {
		t.Errorf("exported %v, want the clue only", colls)
	}
}

// recorder is a go-redis hook that keeps the arguments of every command.
type recorder struct {
	mu   sync.Mutex
	cmds [][]any
}

func (r *recorder) DialHook(next redis.DialHook) redis.DialHook { return next }
func (r *recorder) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		r.mu.Lock()
		r.cmds = append(r.cmds, slices.Clone(cmd.Args()))
		r.mu.Unlock()
		return next(ctx, cmd)
	}
}
func (r *recorder) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		r.mu.Lock()
		for _, c := range cmds {
			r.cmds = append(r.cmds, slices.Clone(c.Args()))
		}
		r.mu.Unlock()
		return next(ctx, cmds)
	}
}

func (r *recorder) all() [][]any {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.cmds)
}
