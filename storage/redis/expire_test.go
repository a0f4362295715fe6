package redis

import (
	"testing"
	"time"
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
