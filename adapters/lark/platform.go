package lark

import (
	"fmt"
	"regexp"
	"time"

	"github.com/xunji-bot/xunji/bot"
)

// Name is Lark's platform key (configuration ids, requests, messages).
const Name bot.Platform = "lark"

// reOpenID is the form of a Lark open_id: ou_ followed by hex digits.
var reOpenID = regexp.MustCompile(`^ou_[0-9a-f]{1,64}$`)

// Platform describes Lark to the core.
func Platform() bot.PlatformSpec {
	return bot.PlatformSpec{
		Name:        Name,
		ValidUserID: reOpenID.MatchString,
		// A file message carries no text: the command is a reply to it.
		AttachHint: func(*bot.Request) string { return "lark" },
		// Lark allows 5 messages a second per chat.
		Pace: 200 * time.Millisecond,
		// Lark refuses to update a message older than 14 days; a day's
		// margin covers messages delivered late.
		SentTTL:       15 * 24 * time.Hour,
		CredentialEnv: "LARK_APP_ID and LARK_APP_SECRET",
		Open:          open,
	}
}

// open returns the adapter the environment configures, nil when it
// configures none.
func open(env bot.PlatformEnv) (bot.Adapter, error) {
	c, ok := ConfigFrom(env.Getenv)
	if !ok {
		return nil, nil
	}
	opts := []Option{WithRejectHook(env.Rejected)}
	if env.Log != nil {
		opts = append(opts, WithLogger(env.Log))
	}
	a, err := New(c, opts...)
	if err != nil {
		return nil, fmt.Errorf("lark: %w", err)
	}
	if env.Log != nil {
		env.Log.Info("lark adapter", "config", c)
	}
	return a, nil
}
