package slack

import (
	"fmt"
	"regexp"
	"time"

	"github.com/xunji-bot/xunji/bot"
)

// Name is Slack's platform key (configuration ids, requests, messages).
const Name bot.Platform = "slack"

// reUserID is the form of a Slack user id: U or W followed by upper-case
// letters and digits.
var reUserID = regexp.MustCompile(`^[UW][A-Z0-9]{2,20}$`)

// Platform describes Slack to the core.
func Platform() bot.PlatformSpec {
	return bot.PlatformSpec{
		Name:        Name,
		ValidUserID: reUserID.MatchString,
		// A slash command carries no files; a message does.
		AttachHint: func(req *bot.Request) string {
			if req.ResponseURL != "" {
				return "slack_slash"
			}
			return "slack"
		},
		// chat.postMessage allows about one message a second per channel.
		Pace: time.Second,
		// chat.update has no age limit: the outbox's default lifetime.
		CredentialEnv: "SLACK_BOT_TOKEN (and its scopes)",
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
		return nil, fmt.Errorf("slack: %w", err)
	}
	if env.Log != nil {
		env.Log.Info("slack adapter", "config", c)
	}
	return a, nil
}
