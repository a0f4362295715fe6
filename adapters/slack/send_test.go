package slack

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/adapters/slack/slacktest"
	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/outbox"
)

var sampleCard = &bot.Card{
	Title: "线索 XS-2026-0001", Color: bot.Orange, Text: "待签收 <@U0LINA> & team",
	Fields: []bot.Field{{Label: "来源", Value: "信访"}, {Label: "期限", Value: "2026-12-08"}},
	Buttons: []bot.Button{
		{Label: "签收", Action: "clue.ack", Value: "XS-2026-0001", Style: "primary"},
		{Label: "退回", Action: "clue.reject", Value: "XS-2026-0001", Style: "danger"},
	},
	Note: "王明 09:00",
}

func TestSendPostsACardAsBlockKit(t *testing.T) {
	hs := newHarness(t)
	ref, err := hs.a.Send(context.Background(), bot.Outgoing{Platform: Name, ChatID: coordChat, Card: sampleCard})
	if err != nil {
		t.Fatal(err)
	}
	call := hs.fake.Await("chat.postMessage", 1)[0]
	if ref.Platform != Name || ref.ChatID != coordChat || ref.ID == "" {
		t.Errorf("ref %+v", ref)
	}
	if got, want := call.Field("text"), "线索 XS-2026-0001\n待签收 <@U0LINA> &amp; team"; got != want {
		t.Errorf("fallback text %q, want %q", got, want)
	}
	blocks := blocksOf(t, call)
	var types []string
	for _, b := range blocks {
		types = append(types, b["type"].(string))
	}
	if got, want := strings.Join(types, ","), "header,section,section,actions,context"; got != want {
		t.Fatalf("blocks %s, want %s", got, want)
	}
	if got := blocks[0]["text"].(map[string]any)["text"]; got != "🟠 线索 XS-2026-0001" {
		t.Errorf("header %q", got)
	}
	if got := blocks[1]["text"].(map[string]any)["text"]; got != "待签收 <@U0LINA> &amp; team" {
		t.Errorf("text section %q: want the mention kept and & escaped", got)
	}
	fields := blocks[2]["fields"].([]any)
	if len(fields) != 2 || fields[0].(map[string]any)["text"] != "*来源*\n信访" {
		t.Errorf("fields %v", fields)
	}
	elems := blocks[3]["elements"].([]any)
	if len(elems) != 2 {
		t.Fatalf("%d buttons, want 2", len(elems))
	}
	for i, want := range []struct{ id, value, style, label string }{
		{"clue.ack", "XS-2026-0001", "primary", "签收"},
		{"clue.reject", "XS-2026-0001", "danger", "退回"},
	} {
		e := elems[i].(map[string]any)
		if e["type"] != "button" || e["action_id"] != want.id || e["value"] != want.value || e["style"] != want.style ||
			e["text"].(map[string]any)["text"] != want.label {
			t.Errorf("button %d: %v", i, e)
		}
	}
	if got := allText(blocks[4]); got != "王明 09:00" {
		t.Errorf("note %q", got)
	}
}

func TestSendToAUserOpensTheDirectMessageOnce(t *testing.T) {
	hs := newHarness(t)
	for range 2 {
		ref, err := hs.a.Send(context.Background(), bot.Outgoing{Platform: Name, UserID: "U0LINA", Text: "请签收"})
		if err != nil {
			t.Fatal(err)
		}
		if ref.ChatID != "D0LINA" {
			t.Errorf("ref %+v, want the direct message D0LINA", ref)
		}
	}
	opens := hs.fake.CallsOf("conversations.open")
	if len(opens) != 1 || opens[0].Field("users") != "U0LINA" {
		t.Errorf("conversations.open calls %v, want one for U0LINA", opens)
	}
	posts := hs.fake.CallsOf("chat.postMessage")
	if len(posts) != 2 || posts[1].Field("channel") != "D0LINA" || posts[1].Field("text") != "请签收" {
		t.Errorf("posts %v", posts)
	}
}

func TestSendWithUpdateEditsTheMessage(t *testing.T) {
	hs := newHarness(t)
	msg := bot.MessageRef{Platform: Name, ChatID: coordChat, ID: "1764550800.000500"}
	ref, err := hs.a.Send(context.Background(), bot.Outgoing{Platform: Name, Card: sampleCard, Update: &msg})
	if err != nil {
		t.Fatal(err)
	}
	if ref != msg {
		t.Errorf("ref %+v, want %+v", ref, msg)
	}
	call := hs.fake.Await("chat.update", 1)[0]
	if call.Field("channel") != coordChat || call.Field("ts") != msg.ID || !strings.Contains(allText(blocksOf(t, call)), "线索 XS-2026-0001") {
		t.Errorf("chat.update %v", call.Form)
	}
	if n := len(hs.fake.CallsOf("chat.postMessage")); n != 0 {
		t.Errorf("%d new posts for an update", n)
	}
}

func TestSendUploadsFilesAfterTheMessage(t *testing.T) {
	hs := newHarness(t)
	f := bot.File{Name: "summary.xlsx", MIME: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", Data: []byte("PK\x03\x04")}
	ref, err := hs.a.Send(context.Background(), bot.Outgoing{Platform: Name, ChatID: coordChat, Text: "月度汇总", Files: []bot.File{f}})
	if err != nil {
		t.Fatal(err)
	}
	if ref.ChatID != coordChat || ref.ID == "" {
		t.Errorf("ref %+v", ref)
	}
	done := hs.fake.Await("files.completeUploadExternal", 1)[0]
	if done.Field("channel_id") != coordChat || !strings.Contains(done.Field("files"), "summary.xlsx") {
		t.Errorf("completeUploadExternal %v", done.Form)
	}
	if up := hs.fake.Await("upload", 1)[0]; up.Field("content") != string(f.Data) || up.Auth != "Bearer xoxb-test" {
		t.Errorf("upload %+v", up)
	}
	if n := len(hs.fake.CallsOf("chat.postMessage")); n != 1 {
		t.Errorf("%d messages, want 1", n)
	}

	// Files alone, to a person.
	ref, err = hs.a.Send(context.Background(), bot.Outgoing{Platform: Name, UserID: "U0ZHAOQIANG", Files: []bot.File{f}})
	if err != nil {
		t.Fatal(err)
	}
	if ref.ChatID != "D0ZHAOQIANG" || ref.ID == "" {
		t.Errorf("ref %+v", ref)
	}
	if n := len(hs.fake.CallsOf("chat.postMessage")); n != 1 {
		t.Errorf("a message was posted for files alone (%d)", n)
	}
}

func TestSendRefusesWhatItCannotSend(t *testing.T) {
	hs := newHarness(t)
	for _, m := range []bot.Outgoing{
		{Platform: "lark", ChatID: "oc_x", Text: "hi"},
		{Platform: Name, ChatID: coordChat},
		{Platform: Name, Text: "nobody to send to"},
	} {
		if _, err := hs.a.Send(context.Background(), m); err == nil {
			t.Errorf("Send(%+v) succeeded", m)
		}
	}
}

func TestNoticeFromTheBotReachesTheSlackGroupChannel(t *testing.T) {
	hs := newHarness(t)
	refs, err := hs.env.Bot.Out.Notify(context.Background(), bot.Notice{Group: "coordination", Text: "请 " + bot.MentionTag(hs.env.Person("lina")) + " 签收"})
	if err != nil {
		t.Fatal(err)
	}
	var slackRef *bot.MessageRef
	for i := range refs {
		if refs[i].Platform == Name {
			slackRef = &refs[i]
		}
	}
	if slackRef == nil || slackRef.ChatID != coordChat {
		t.Fatalf("refs %+v, want one in %s", refs, coordChat)
	}
	call := hs.fake.Await("chat.postMessage", 1)[0]
	if got, want := call.Field("text"), "请 <@U0LINA> 签收"; got != want {
		t.Errorf("text %q, want %q", got, want)
	}
}

func TestRateLimitedPostIsRetriedAfterRetryAfter(t *testing.T) {
	hs := newHarness(t)
	hs.fake.FailNext("chat.postMessage", http.StatusTooManyRequests)
	start := time.Now()
	if _, err := hs.a.Send(context.Background(), bot.Outgoing{Platform: Name, ChatID: coordChat, Text: "hi"}); err != nil {
		t.Fatal(err)
	}
	if elapsed := time.Since(start); elapsed < time.Second {
		t.Errorf("retried after %v, before Retry-After: 1", elapsed)
	}
	if n := hs.fake.Attempts("chat.postMessage"); n != 2 {
		t.Errorf("%d attempts, want 2", n)
	}
	if n := len(hs.fake.CallsOf("chat.postMessage")); n != 1 {
		t.Errorf("%d messages posted, want 1", n)
	}
}

func TestServerErrorsAreRetriedWithBackoff(t *testing.T) {
	hs := newHarness(t)
	hs.fake.FailNext("chat.postMessage", http.StatusInternalServerError, http.StatusServiceUnavailable)
	if _, err := hs.a.Send(context.Background(), bot.Outgoing{Platform: Name, ChatID: coordChat, Text: "hi"}); err != nil {
		t.Fatal(err)
	}
	if n := hs.fake.Attempts("chat.postMessage"); n != 3 {
		t.Errorf("%d attempts, want 3", n)
	}
}

func TestPersistentServerErrorsGiveUp(t *testing.T) {
	hs := newHarness(t)
	hs.fake.FailNext("chat.postMessage", 500, 500, 500, 500, 500)
	if _, err := hs.a.Send(context.Background(), bot.Outgoing{Platform: Name, ChatID: coordChat, Text: "hi"}); err == nil {
		t.Fatal("Send succeeded against a failing server")
	}
	if n := hs.fake.Attempts("chat.postMessage"); n != 4 {
		t.Errorf("%d attempts, want 4 (one and three retries)", n)
	}
}

func TestSendErrorsSayWhetherAndWhenToRetry(t *testing.T) {
	hs := newHarness(t, withRetries(0))
	send := func() error {
		_, err := hs.a.Send(context.Background(), bot.Outgoing{Platform: Name, ChatID: coordChat, Text: "hi"})
		return err
	}

	hs.fake.FailNext("chat.postMessage", http.StatusTooManyRequests)
	err := send()
	var ra bot.RetryAfter
	if !errors.As(err, &ra) || ra.RetryAfter() != time.Second {
		t.Errorf("429: %v, want a bot.RetryAfter of 1s", err)
	}

	hs.fake.FailWith("chat.postMessage", "channel_not_found")
	err = send()
	var perm bot.Permanent
	if !errors.As(err, &perm) || !perm.Permanent() || !strings.Contains(err.Error(), "channel_not_found") {
		t.Errorf("channel_not_found: %v, want a permanent error", err)
	}

	hs.fake.FailNext("chat.postMessage", http.StatusBadGateway)
	err = send()
	perm, ra = nil, nil
	if err == nil || errors.As(err, &perm) {
		t.Errorf("502: %v, want a transient error", err)
	}
	if errors.As(err, &ra) {
		t.Errorf("502: %v carries a Retry-After", err)
	}
}

func TestPacerSpacesPostsToOneChannel(t *testing.T) {
	p := newPacer(100*time.Millisecond, 2)
	ctx := context.Background()
	start := time.Now()
	for range 2 {
		if err := p.wait(ctx, "C1"); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.wait(ctx, "C2"); err != nil {
		t.Fatal(err)
	}
	if elapsed := time.Since(start); elapsed >= 100*time.Millisecond {
		t.Errorf("the burst waited %v", elapsed)
	}
	if err := p.wait(ctx, "C1"); err != nil {
		t.Fatal(err)
	}
	if elapsed := time.Since(start); elapsed < 90*time.Millisecond {
		t.Errorf("the third post to C1 went out after %v, want about 100ms", elapsed)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := p.wait(cancelled, "C1"); err == nil {
		t.Error("a wait with a cancelled context succeeded")
	}
}

// The pacer forgets channels whose bucket refilled, once there are many,
// and scans for them at most once per interval, not on every new channel.
func TestPacerForgetsIdleChannels(t *testing.T) {
	p := newPacer(50*time.Millisecond, 1)
	p.keep = 100
	ctx := context.Background()
	wait := func(ch string) {
		t.Helper()
		if err := p.wait(ctx, ch); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 101 {
		wait(fmt.Sprintf("C%d", i))
	}
	wait("Cnew") // over keep: a scan, which finds every channel busy
	first := p.pruned
	if first.IsZero() || len(p.ch) != 102 {
		t.Fatalf("scanned at %v, %d channels tracked", first, len(p.ch))
	}
	wait("Cnew2") // within the interval: no second scan
	if !p.pruned.Equal(first) && time.Since(first) < p.every {
		t.Fatal("scanned again within the interval")
	}
	time.Sleep(3 * p.every) // every bucket refills
	wait("Clater")
	if n := len(p.ch); n != 1 {
		t.Errorf("%d channels tracked after they all went idle, want only the new one", n)
	}
	wait("Cnext")
	if n := len(p.ch); n != 2 {
		t.Errorf("%d channels tracked, want 2", n)
	}
}

func TestMentionIsSlackMarkup(t *testing.T) {
	hs := newHarness(t)
	if got := hs.a.Mention("U0LINA", "李娜"); got != "<@U0LINA>" {
		t.Errorf("Mention = %q", got)
	}
	if hs.a.Platform() != Name {
		t.Errorf("Platform = %q", hs.a.Platform())
	}
}

// An answer Slack refuses (it is down) is not lost: it goes to the
// durable outbox and out when Slack is back.
func TestAnswerSlackRefusedGoesThroughTheOutbox(t *testing.T) {
	hs := newHarness(t, withRetries(0))
	x := outbox.New(hs.env.Bot, outbox.Options{Pace: map[bot.Platform]time.Duration{}})
	hs.env.Bot.Out.SetSender(x)
	// The answer, then the outbox's first try.
	hs.fake.FailNext("chat.postMessage", http.StatusServiceUnavailable, http.StatusServiceUnavailable)
	if r := hs.postEvent(slacktest.DirectMessage("Ev_down", "U0LINA", "D0LINA", "计数"), nil); r.StatusCode != http.StatusOK {
		t.Fatalf("status %d", r.StatusCode)
	}
	hs.settle()
	if posts := hs.fake.Posts("D0LINA"); len(posts) != 0 {
		t.Fatalf("posted while Slack refused: %+v", posts)
	}
	if depth, _, err := x.Stats(context.Background()); err != nil || depth != 1 {
		t.Fatalf("outbox depth %d (%v), want the answer waiting", depth, err)
	}
	hs.env.Clock.Advance(time.Minute)
	if n, err := x.Flush(context.Background()); err != nil || n != 1 {
		t.Fatalf("flush: %d, %v", n, err)
	}
	posts := hs.fake.Posts("D0LINA")
	if len(posts) != 1 || !strings.Contains(posts[0].Text(), "Counter c1") {
		t.Fatalf("posts %+v", posts)
	}
}

// After an outage the next answer, though Slack is back, does not
// overtake the one still waiting in the outbox: it queues behind it, and
// both go out from there.
func TestAnswerAfterAnOutageQueuesBehindTheBacklog(t *testing.T) {
	hs := newHarness(t, withRetries(0))
	x := outbox.New(hs.env.Bot, outbox.Options{Pace: map[bot.Platform]time.Duration{}})
	hs.env.Bot.Out.SetSender(x)
	hs.fake.FailNext("chat.postMessage", http.StatusServiceUnavailable, http.StatusServiceUnavailable)
	for _, ev := range []string{"Ev_first", "Ev_second"} {
		if r := hs.postEvent(slacktest.DirectMessage(ev, "U0LINA", "D0LINA", "计数"), nil); r.StatusCode != http.StatusOK {
			t.Fatalf("status %d", r.StatusCode)
		}
		hs.settle()
	}
	if posts := hs.fake.Posts("D0LINA"); len(posts) != 0 {
		t.Fatalf("posted ahead of the backlog: %+v", posts)
	}
	if depth, _, err := x.Stats(context.Background()); err != nil || depth != 2 {
		t.Fatalf("outbox depth %d (%v), want both answers waiting", depth, err)
	}
	hs.env.Clock.Advance(time.Minute)
	if n, err := x.Flush(context.Background()); err != nil || n != 2 {
		t.Fatalf("flush: %d, %v", n, err)
	}
	// Both in the outbox's order (the order they were written: see
	// bot/outbox's order tests); the answers here look alike.
	if posts := hs.fake.Posts("D0LINA"); len(posts) != 2 {
		t.Fatalf("%d posts, want the two answers", len(posts))
	}
}
