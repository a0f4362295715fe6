package slack

import (
	"log/slog"
	"strings"
	"testing"
)

// env is a getenv on a fixed set of variables.
func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestConfigFromReadsTheSlackVariables(t *testing.T) {
	c, ok := ConfigFrom(env(map[string]string{
		"SLACK_BOT_TOKEN":      "xoxb-1",
		"SLACK_SIGNING_SECRET": "s3cret",
		"SLACK_APP_TOKEN":      "xapp-1",
		"SLACK_API_URL":        "http://127.0.0.1:9/api/",
		"SLACK_MODE":           "Socket",
		"SLACK_BOT_USER_ID":    "U0BOT",
		"SLACK_TEAM_ID":        " T0DEMO ",
	}))
	want := Config{BotToken: "xoxb-1", SigningSecret: "s3cret", AppToken: "xapp-1", APIURL: "http://127.0.0.1:9/api/", Mode: ModeSocket, BotUserID: "U0BOT", TeamID: "T0DEMO"}
	if !ok || c != want {
		t.Errorf("ConfigFrom = %+v, %v; want %+v, true", c, ok, want)
	}
}

func TestConfigFromWithoutABotTokenMeansSlackIsOff(t *testing.T) {
	if _, ok := ConfigFrom(env(map[string]string{"SLACK_SIGNING_SECRET": "s3cret"})); ok {
		t.Error("ok without SLACK_BOT_TOKEN")
	}
}

func TestNewRejectsAnIncompleteConfig(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no bot token", Config{SigningSecret: "s"}, "SLACK_BOT_TOKEN"},
		{"http without signing secret", Config{BotToken: "xoxb-1"}, "SLACK_SIGNING_SECRET"},
		{"socket without app token", Config{BotToken: "xoxb-1", Mode: ModeSocket}, "SLACK_APP_TOKEN"},
		{"socket with a bot token as app token", Config{BotToken: "xoxb-1", AppToken: "xoxb-2", Mode: ModeSocket}, "SLACK_APP_TOKEN"},
		{"unknown mode", Config{BotToken: "xoxb-1", SigningSecret: "s", Mode: "carrier-pigeon"}, "carrier-pigeon"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := New(c.cfg)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("New = %v, want an error naming %s", err, c.want)
			}
		})
	}
}

func TestNewCompletesTheAPIURLAndDefaultsToHTTP(t *testing.T) {
	a, err := New(Config{BotToken: "xoxb-1", SigningSecret: "s", APIURL: "http://127.0.0.1:9/api"})
	if err != nil {
		t.Fatal(err)
	}
	if a.cfg.APIURL != "http://127.0.0.1:9/api/" || a.cfg.Mode != ModeHTTP {
		t.Errorf("config %+v", a.cfg)
	}
}

func TestConfigDescriptionsAndErrorsNeverShowTheSecrets(t *testing.T) {
	c := Config{BotToken: "xoxb-very-secret", SigningSecret: "signing-very-secret", AppToken: "xapp-very-secret", Mode: "bogus"}
	_, err := New(c)
	if err == nil {
		t.Fatal("New accepted mode bogus")
	}
	var logged strings.Builder
	slog.New(slog.NewTextHandler(&logged, nil)).Info("slack adapter", "config", c)
	for what, s := range map[string]string{"error": err.Error(), "String": c.String(), "log": logged.String()} {
		if strings.Contains(s, "very-secret") {
			t.Errorf("%s shows a secret: %s", what, s)
		}
	}
	if !strings.Contains(c.String(), "BotToken:***") || !strings.Contains(logged.String(), "config.mode=bogus") {
		t.Errorf("String %q, log %q", c.String(), logged.String())
	}
}

func TestConfigFromReadsThroughGetenv(t *testing.T) {
	env := map[string]string{"SLACK_BOT_TOKEN": " xoxb-2 ", "SLACK_MODE": "HTTP"}
	c, ok := ConfigFrom(func(k string) string { return env[k] })
	if !ok || c.BotToken != "xoxb-2" || c.Mode != ModeHTTP {
		t.Errorf("ConfigFrom = %+v, %v", c, ok)
	}
}
