package slack

import (
	"context"
	"strings"
	"testing"

	"github.com/xunji-bot/xunji/adapters/slack/slacktest"
	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/commands/progress"
)

const importCSV = "责任单位,整改事项,整改时限,监督单位,即知即改\n" +
	"区财政局党组,专项资金管理制度不健全,2027-03-31,第二监督检查室,否\n" +
	"城关镇党委,村级财务公开不及时,2027-01-31,城关镇派出监察员办公室,是\n"

func importHarness(t *testing.T) *harness {
	t.Helper()
	hs := newHarness(t)
	if err := progress.Module().Setup(hs.env.Bot, hs.env.Config); err != nil {
		t.Fatal(err)
	}
	return hs
}

func itemsIn(t *testing.T, hs *harness) int {
	t.Helper()
	all, err := bot.Records[progress.Item](hs.env.Store, progress.CollItems).List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return len(all)
}

// answer posts body, waits for the work and returns the text of the
// last message posted to channel.
func (hs *harness) answer(body []byte, channel string) string {
	hs.t.Helper()
	if r := hs.postEvent(body, nil); r.StatusCode != 200 {
		hs.t.Fatalf("status %d", r.StatusCode)
	}
	hs.settle()
	posts := hs.fake.Posts(channel)
	if len(posts) == 0 {
		hs.t.Fatalf("nothing posted to %s: %+v", channel, hs.fake.Calls())
	}
	return posts[len(posts)-1].Text()
}

func TestDirectMessageWithASheetImportsIt(t *testing.T) {
	hs := importHarness(t)
	f := hs.fake.File("整改台账.csv", "text/csv", []byte(importCSV))
	got := hs.answer(slacktest.DirectMessageWithFiles("Ev_file_1", "U0LINA", "D0LINA", "进度 导入", f), "D0LINA")
	if !strings.Contains(got, hs.env.TZ("progress.import.done", "count", 2, "first", "ZG-2026-0001", "last", "ZG-2026-0002")) {
		t.Fatalf("answer %q", got)
	}
	if n := itemsIn(t, hs); n != 2 {
		t.Fatalf("%d items", n)
	}
	d := hs.fake.Downloads()
	if len(d) != 1 || d[0].Auth != "Bearer xoxb-test" {
		t.Errorf("downloads %+v", d)
	}
	// The inbox held the request without the bytes.
	if reqs := hs.h.requests(); len(reqs) != 1 || len(reqs[0].Files) != 0 {
		t.Errorf("accepted %+v", reqs)
	}
}

// Files sent with a command that reads none are not downloaded.
func TestFilesWithAnotherCommandAreNotDownloaded(t *testing.T) {
	hs := importHarness(t)
	f := hs.fake.File("整改台账.csv", "text/csv", []byte(importCSV))
	got := hs.answer(slacktest.DirectMessageWithFiles("Ev_file_2", "U0LINA", "D0LINA", "whoami", f), "D0LINA")
	if got == "" {
		t.Fatal("no answer")
	}
	if d := hs.fake.Downloads(); len(d) != 0 {
		t.Errorf("downloaded %+v for a command that reads no file", d)
	}
}

func TestChannelMentionWithASheetImportsIt(t *testing.T) {
	hs := importHarness(t)
	f := hs.fake.File("台账.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", []byte("not a real xlsx"))
	hs.postEvent(slacktest.AppMentionWithFiles("Ev_mention_1", "U0LINA", coordChat, "<@"+testBotUser+"> 进度 导入", f), nil)
	hs.settle()
	if len(hs.fake.Downloads()) != 1 {
		t.Fatalf("downloads %+v", hs.fake.Downloads())
	}
	want := hs.env.TZ("progress.import.unreadable", "format", "XLSX")
	if !strings.Contains(hs.fake.AllText(), want) {
		t.Errorf("want %q in %s", want, hs.fake.AllText())
	}
}

func TestSheetProblemsAnswerClearlyAndCreateNothing(t *testing.T) {
	hs := importHarness(t)
	// Larger than bot.MaxRequestFileSize by the event's word: not fetched.
	big := hs.fake.File("大台账.csv", "text/csv", []byte(importCSV))
	big.Size = bot.MaxRequestFileSize + 1
	got := hs.answer(slacktest.DirectMessageWithFiles("Ev_big", "U0LINA", "D0LINA", "进度 导入", big), "D0LINA")
	if !strings.Contains(got, hs.env.TZ("progress.import.not_received", "name", "大台账.csv", "max", 5)) {
		t.Errorf("too large: %q", got)
	}
	// A download URL that is not Slack's never gets the token.
	stray := slacktest.File{ID: "F0STRAY", Name: "a.csv", MIME: "text/csv", Size: 10, URL: "https://attacker.example/a.csv"}
	got = hs.answer(slacktest.DirectMessageWithFiles("Ev_stray", "U0LINA", "D0LINA", "进度 导入", stray), "D0LINA")
	if !strings.Contains(got, hs.env.TZ("progress.import.not_received", "name", "a.csv", "max", 5)) {
		t.Errorf("stray URL: %q", got)
	}
	// No file at all.
	got = hs.answer(slacktest.DirectMessage("Ev_none", "U0LINA", "D0LINA", "进度 导入"), "D0LINA")
	if !strings.Contains(got, hs.env.TZ("progress.import.attach_slack")) {
		t.Errorf("no file: %q", got)
	}
	if len(hs.fake.Downloads()) != 0 {
		t.Errorf("downloads %+v", hs.fake.Downloads())
	}
	if n := itemsIn(t, hs); n != 0 {
		t.Errorf("%d items created", n)
	}
}

func TestSlashImportSaysToSendTheFileInAMessage(t *testing.T) {
	hs := importHarness(t)
	resp := hs.postCommand(slashForm(t, hs.fake, "/progress", "import", "U0LINA", "trig-import"))
	hs.settle()
	var text string
	if m, ok := (slacktest.Result{Body: []byte(readAll(t, resp))}).Message(); ok {
		text = m.Text + slacktest.BlocksText(m.Blocks)
	}
	text += hs.fake.AllText()
	if !strings.Contains(text, hs.env.TZ("progress.import.attach_slack_slash")) {
		t.Fatalf("answer %q", text)
	}
}

func TestFileURLTrust(t *testing.T) {
	a, err := New(Config{BotToken: "xoxb-x", SigningSecret: "s", APIURL: "http://127.0.0.1:9/api/"})
	if err != nil {
		t.Fatal(err)
	}
	for u, want := range map[string]bool{
		"https://files.slack.com/files-pri/T0-F0/a.csv": true,
		"http://files.slack.com/files-pri/T0-F0/a.csv":  false,
		"https://files.slack.com.evil.example/a.csv":    false,
		"https://evilslack.com/a.csv":                   false,
		"http://127.0.0.1:9/files/F1/a.csv":             true,
		"http://127.0.0.1:10/files/F1/a.csv":            false,
		"":                                              false,
	} {
		if got := a.trustedFileURL(u); got != want {
			t.Errorf("%q: %v, want %v", u, got, want)
		}
	}
}
