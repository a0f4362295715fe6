package redis

import (
	"errors"
	"testing"

	"github.com/xunji-bot/xunji/bot"
)

// serverError is a reply error as go-redis returns it (redis.Error).
type serverError string

func (e serverError) Error() string { return string(e) }
func (serverError) RedisError()     {}

// Server errors that mean "not now" are unavailable (the bot keeps the
// request and tries again); the others mean "wrong" and stay internal.
func TestServerErrorsThatMeanNotNowAreUnavailable(t *testing.T) {
	for _, msg := range []string{
		"BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.",
		"OOM command not allowed when used memory > 'maxmemory'.",
		"MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk.",
		"NOREPLICAS Not enough good replicas to write.",
		"LOADING Redis is loading the dataset in memory",
		"READONLY You can't write against a read only replica.",
		"TRYAGAIN Multiple keys request during rehashing of slot",
	} {
		if got := bot.ErrorCode(mapErr(serverError(msg))); got != bot.EUNAVAILABLE {
			t.Errorf("%q: code %q, want unavailable", msg, got)
		}
	}
	for _, msg := range []string{
		"WRONGTYPE Operation against a key holding the wrong kind of value",
		"ERR syntax error",
	} {
		if got := bot.ErrorCode(mapErr(serverError(msg))); got == bot.EUNAVAILABLE {
			t.Errorf("%q: unavailable, want an internal error", msg)
		}
	}
	if got := bot.ErrorCode(mapErr(errors.New("dial tcp 127.0.0.1:6379: connect: connection refused"))); got != bot.EUNAVAILABLE {
		t.Errorf("a connection error: code %q, want unavailable", got)
	}
}
