package bottest

import (
	"testing"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/storage/storetest"
)

// The memory store the command tests run on passes the storage
// conformance suite, so that commands tested on it behave as on the
// real backends.
func TestMemConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) bot.Store { return NewMem() })
}
