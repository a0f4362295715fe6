package bot_test

import (
	"testing"

	"github.com/xunji-bot/xunji/storage/redis/redistest"

	"github.com/xunji-bot/xunji/bot/bottest"
)

// allStores runs f as stores does and also on Redis (DB 15 of the test
// server, under a prefix of its own whose keys are deleted afterwards).
// It fails rather than skips without a server.
func allStores(t *testing.T, f func(t *testing.T, env *bottest.Env)) {
	stores(t, f)
	t.Run("redis", func(t *testing.T) {
		s := redistest.Open(t, "bot")
		f(t, bottest.New(t, bottest.WithStore(s)))
	})
}
