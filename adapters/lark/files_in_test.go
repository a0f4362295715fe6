package lark

import (
	"context"
	"strings"
	"testing"

	"github.com/xunji-bot/xunji/adapters/lark/larktest"
	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/commands/progress"
)

const importCSV = "责任单位,整改事项,整改时限,监督单位,即知即改\n" +
	"区财政局党组,专项资金管理制度不健全,2027-03-31,第二监督检查室,否\n" +
	"城关镇党委,村级财务公开不及时,2027-01-31,城关镇派出监察员办公室,是\n"

// importHarness is the Lark harness with the progress command.
func importHarness(t *testing.T) *harness {
	t.Helper()
	hs := newHarness(t, "")
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

// replyText is the text of the bot's reply to message id.
func replyText(t *testing.T, hs *harness, id string) string {
	t.Helper()
	rs := hs.fake.Replies(id)
	if len(rs) == 0 {
		t.Fatalf("no reply to %s; calls %+v", id, hs.fake.Calls())
	}
	return rs[len(rs)-1].Text()
}

// The convention: send the file, then reply to it with the command.
func TestReplyToAFileMessageImportsIt(t *testing.T) {
	for _, chat := range []struct{ typ, id string }{{"p2p", larktest.P2PChat(lina)}, {"group", coordChat}} {
		t.Run(chat.typ, func(t *testing.T) {
			hs := importHarness(t)
			f := hs.fake.AddFileMessage(larktest.FileMessage{MessageID: "om_file_1", ChatID: chat.id, Sender: lina, FileName: "整改台账.csv", Data: []byte(importCSV)})
			// The file message alone is not a command.
			hs.post("/lark/events", larktest.FileMessageEvent("ev_file_1", chat.typ, f))
			if itemsIn(t, hs) != 0 || len(hs.fake.Downloads()) != 0 {
				t.Fatal("a file message alone imported")
			}
			hs.post("/lark/events", larktest.Reply("ev_cmd_1", chat.typ, chat.id, lina, f.MessageID, "进度 导入"))
			// A private answer: a reply in a direct chat, a direct message
			// when the command came from a group.
			got := ""
			if chat.typ == "p2p" {
				got = replyText(t, hs, "om_ev_cmd_1")
			} else {
				if len(hs.fake.Replies("om_ev_cmd_1")) != 0 {
					t.Fatalf("a private answer shown in the group: %+v", hs.fake.Replies("om_ev_cmd_1"))
				}
				dms := hs.fake.DMs(lina)
				if len(dms) == 0 {
					t.Fatalf("no answer to %s; calls %+v", lina, hs.fake.Calls())
				}
				got = dms[len(dms)-1].Text()
			}
			if !strings.Contains(got, hs.env.TZ("progress.import.done", "count", 2, "first", "ZG-2026-0001", "last", "ZG-2026-0002")) {
				t.Fatalf("answer %q", got)
			}
			if n := itemsIn(t, hs); n != 2 {
				t.Fatalf("%d items", n)
			}
			if d := hs.fake.Downloads(); len(d) != 1 || d[0] != f.MessageID {
				t.Errorf("downloads %v", d)
			}
		})
	}
}

// A reply to a file message with a command that reads no file neither
// fetches the replied-to message nor downloads its file.
func TestReplyWithAnotherCommandFetchesNothing(t *testing.T) {
	hs := importHarness(t)
	f := hs.fake.AddFileMessage(larktest.FileMessage{MessageID: "om_file_2", ChatID: larktest.P2PChat(lina), Sender: lina, FileName: "整改台账.csv", Data: []byte(importCSV)})
	hs.post("/lark/events", larktest.Reply("ev_cmd_2", "p2p", f.ChatID, lina, f.MessageID, "whoami"))
	if got := replyText(t, hs, "om_ev_cmd_2"); got == "" {
		t.Fatal("no answer")
	}
	for _, c := range hs.fake.Calls() {
		if strings.Contains(c.Path, f.MessageID) {
			t.Errorf("called %s %s for a command that reads no file", c.Method, c.Path)
		}
	}
	if d := hs.fake.Downloads(); len(d) != 0 {
		t.Errorf("downloads %v", d)
	}
}

func TestImportWithoutAFileOrWithOneTooLarge(t *testing.T) {
	hs := importHarness(t)
	// No file: the command says how to send one.
	hs.post("/lark/events", larktest.P2PMessage("ev_nofile", lina, "进度 导入"))
	if got := replyText(t, hs, "om_ev_nofile"); !strings.Contains(got, hs.env.TZ("progress.import.attach_lark")) {
		t.Errorf("no file: %q", got)
	}
	// A reply to a text message carries no file.
	hs.post("/lark/events", larktest.Reply("ev_totext", "p2p", larktest.P2PChat(lina), lina, "om_ev_nofile", "进度 导入"))
	if got := replyText(t, hs, "om_ev_totext"); !strings.Contains(got, hs.env.TZ("progress.import.attach_lark")) {
		t.Errorf("reply to text: %q", got)
	}
	// Over bot.MaxRequestFileSize: not downloaded whole, answered clearly.
	big := hs.fake.AddFileMessage(larktest.FileMessage{MessageID: "om_big", ChatID: larktest.P2PChat(lina), Sender: lina,
		FileName: "大台账.csv", Data: []byte(strings.Repeat("x", bot.MaxRequestFileSize+1))})
	hs.post("/lark/events", larktest.Reply("ev_big", "p2p", big.ChatID, lina, big.MessageID, "进度 导入"))
	if got := replyText(t, hs, "om_ev_big"); !strings.Contains(got, hs.env.TZ("progress.import.not_received", "name", "大台账.csv", "max", 5)) {
		t.Errorf("too large: %q", got)
	}
	if n := itemsIn(t, hs); n != 0 {
		t.Errorf("%d items created", n)
	}
}

func TestLimitedBodyStopsPastTheLimit(t *testing.T) {
	b := &limitedBody{ReadCloser: nopCloser{strings.NewReader("abcdef")}, left: 4}
	buf := make([]byte, 3)
	var got []byte
	var err error
	for err == nil {
		var n int
		n, err = b.Read(buf)
		got = append(got, buf[:n]...)
	}
	if err != errFileTooLarge || len(got) != 5 {
		t.Fatalf("read %q, err %v", got, err)
	}
}

type nopCloser struct{ *strings.Reader }

func (nopCloser) Close() error { return nil }
