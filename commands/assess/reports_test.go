package assess

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xunji-bot/xunji/adapters/slack"
	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
)

// The office lists and views its special reports, uploads its edited
// Markdown (attached on a chat platform, a path in the console), and the
// version sent to the committee is the uploaded one; a sent report takes
// no more uploads. Wrong files are refused with what was wrong and an
// example.
func TestSpecialReportListViewUploadAndSendTheEditedVersion(t *testing.T) {
	env := newEnv(t)
	ctx := context.Background()
	bottest.MustContain(t, "empty list", bottest.Text(env.Command("wangming", "专报 列表")), env.TZ("report.list.empty"))
	env.Direct("wangming", "专报 起草 2026年第四季度")

	text := bottest.Text(env.Command("wangming", "专报 列表"))
	bottest.MustContain(t, "list", text, env.TZ("report.list.header", "count", 1), "ZB-2026-0001 第1期 · 2026年第四季度 · 2026年12月15日 王明起草 · 草稿，未报送")
	bottest.MustContain(t, "committee lists", bottest.Text(env.Command("zhenghua", "专报 列表")), "没有权限")

	edited := "**巡纪协作专报**\n\n第1期\n\n报送单位：区委巡察办　　2026年12月16日\n\n# 关于2026年第四季度巡纪协作工作问题和不足的专报（定稿）\n\n巡察办审定的正文。\n"
	path := filepath.Join(t.TempDir(), "定稿.md")
	if err := os.WriteFile(path, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	text = bottest.Text(env.Command("wangming", "专报 上传 ZB-2026-0001 "+path))
	bottest.MustContain(t, "upload", text, "已上传专报 ZB-2026-0001 的修改稿", "已上传修改稿（王明")

	// On a chat platform the document comes attached to the command.
	upload := func(files ...bot.File) string {
		p := env.Person("wangming")
		return bottest.Text(env.Bot.Handle(ctx, &bot.Request{Kind: bot.KindCommand, Platform: slack.Name, UserID: p.IDs[slack.Name], Direct: true,
			Text: "专报 上传 ZB-2026-0001", Files: files}))
	}
	bottest.MustContain(t, "no file on slack", upload(), "随「专报 上传 ZB-2026-0001」")
	bottest.MustContain(t, "docx", upload(bot.File{Name: "定稿.docx", Data: []byte("x")}), "「定稿.docx」不是 Markdown 文档", "专报 上传 ZB-2026-0001 ./巡纪协作专报-定稿.md")
	bottest.MustContain(t, "two", upload(bot.File{Name: "a.md", Data: []byte("a")}, bot.File{Name: "b.md", Data: []byte("b")}), "附了 2 个 Markdown 文档")
	bottest.MustContain(t, "not utf-8", upload(bot.File{Name: "gbk.md", Data: []byte{0xb9, 0xfa, 0xff}}), "不是 UTF-8")
	edited += "\n补充一句。\n"
	bottest.MustContain(t, "slack upload", upload(bot.File{Name: "定稿.md", MIME: "text/markdown", Data: []byte(edited)}), "已上传专报 ZB-2026-0001 的修改稿")

	resp := env.Command("wangming", "专报 查看 ZB-2026-0001")
	if len(resp.Replies) != 1 || len(resp.Replies[0].Files) != 1 || string(resp.Replies[0].Files[0].Data) != edited {
		t.Fatalf("show does not give the uploaded version: %+v", resp.Replies)
	}
	bottest.MustContain(t, "show", bottest.CardText(resp.Replies[0].Card), "专报草稿 ZB-2026-0001 · 2026年第四季度", "发送区委")

	env.Adapter.Reset()
	bottest.MustContain(t, "send", bottest.Text(env.Command("wangming", "专报 发送 ZB-2026-0001")), "已发送给区委联系人：郑华")
	sent := env.Adapter.Sent()
	if len(sent) != 1 || len(sent[0].Files) != 1 || string(sent[0].Files[0].Data) != edited {
		t.Fatalf("the committee did not get the uploaded version: %+v", sent)
	}
	if sent[0].Text != env.TZ("report.sent_notice_edited", "id", "ZB-2026-0001", "issue", 1, "period", "2026年第四季度") {
		t.Errorf("notice %q", sent[0].Text)
	}
	if !strings.Contains(sent[0].Files[0].Name, "2026年第四季度") {
		t.Errorf("file name %q", sent[0].Files[0].Name)
	}
	bottest.MustContain(t, "upload after sending", bottest.Text(env.Command("wangming", "专报 上传 ZB-2026-0001 "+path)), "已于 2026-12-15 10:00 报送，不能再修改")
	bottest.MustContain(t, "list after sending", bottest.Text(env.Command("wangming", "专报 列表")), "已报送（王明，2026-12-15 10:00）")

	es, err := bottest.AuditLog(ctx, env.Bot, func(e bot.AuditEntry) bool { return e.Action == "report.upload" || e.Action == "report.send" })
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range es {
		got = append(got, e.Action+"/"+e.Result)
	}
	if strings.Join(got, ",") != "report.upload/ok,report.upload/ok,report.send/ok" || !strings.Contains(es[2].Detail, "version=edited") {
		t.Errorf("audit %v (%+v)", got, es)
	}
}
