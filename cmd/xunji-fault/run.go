package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/xunji-bot/xunji/adapters/lark/larktest"
	"github.com/xunji-bot/xunji/adapters/slack/slacktest"
	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/config"
	boltstore "github.com/xunji-bot/xunji/storage/bolt"
	redisstore "github.com/xunji-bot/xunji/storage/redis"
)

// The secrets the binary and the fake platforms share; nothing leaves
// loopback.
const (
	slackSecret = "fault-signing-secret"
	larkKey     = "fault-encrypt-key"
	redisPrefix = "xunjifault:"
)

// Where the commands come from and where their effects go, in the demo
// roster (bot/config/demo.yaml): 李娜 (1st inspection team) transfers
// clues in the coordination group to the 2nd supervision room, whose
// only member is 赵强; the group cards go to the discipline-only clue
// group (clue.group).
const (
	slackChannel  = "C0DEMOCOORD"
	slackClueChan = "C0DEMODISCIPLINE"
	larkClueChat  = "oc_demo_discipline"
	slackSender   = "U0LINA"
	slackReceiver = "U0ZHAOQIANG"
	larkChat      = "oc_demo_coordination"
	larkSender    = "ou_demo_lina"
	larkReceiver  = "ou_demo_zhaoqiang"
)

// options are the suite's settings.
type options struct {
	Bin       string
	Store     string        // "redis" or "bolt"
	Platforms []string      // "slack", "lark"
	N         int           // clue transfers per platform
	Latency   time.Duration // how long the fake platforms take to answer a send
	Gap       time.Duration // between two commands of one platform
	Dir       string        // where each run keeps its files
	Verbose   io.Writer     // progress lines; io.Discard for none
}

// command is one clue transfer sent by a platform.
type command struct {
	Platform string
	Tag      string // S03, L07: in the organisation, title and substance
	EventID  string
	Acked    atomic.Bool
	Attempts atomic.Int32
}

func transferText(tag string) string {
	return fmt.Sprintf(`线索 移送 第二监督检查室 演练单位%s "演练线索%s" "演练线索内容%s：以加班费名义发放补贴"`, tag, tag, tag)
}

// run is one scenario's run: the fakes, the store, the replicas and the
// front, the commands sent and what was seen.
type run struct {
	o     options
	sc    scenario
	dir   string
	tb    *kitTB
	redis *redisServer
	slack *slacktest.Server
	lark  *larktest.Server
	reps  []*replica
	front *front
	env   []string
	cmds  []*command
	notes []string
	mu    sync.Mutex
}

func (r *run) logf(format string, args ...any) {
	fmt.Fprintf(r.o.Verbose, "  [%s] %s\n", r.sc.Name, fmt.Sprintf(format, args...))
}

func (r *run) note(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.notes = append(r.notes, fmt.Sprintf(format, args...))
}

func (r *run) has(platform string) bool {
	for _, p := range r.o.Platforms {
		if p == platform {
			return true
		}
	}
	return false
}

// setup starts the store, the fakes, the replicas and the front.
func (r *run) setup() error {
	r.tb = &kitTB{}
	cfg := config.DemoYAML()
	if r.o.Store == "redis" {
		rs, err := startRedis(r.dir)
		if err != nil {
			return err
		}
		r.redis = rs
		old := []byte("store:\n  kind: bolt\n  path: xunji-demo.db\n")
		if !bytes.Contains(cfg, old) {
			return fmt.Errorf("the demo configuration's store section changed: update xunji-fault")
		}
		cfg = bytes.Replace(cfg, old, []byte("store:\n  kind: redis\n  prefix: \""+redisPrefix+"\"\n"), 1)
	}
	cfgPath := filepath.Join(r.dir, "xunji.yaml")
	if err := os.WriteFile(cfgPath, cfg, 0o600); err != nil {
		return err
	}
	r.env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + r.dir, "TMPDIR=" + r.dir,
		"XUNJI_CONFIG=" + cfgPath, "XUNJI_INBOX_GRACE=3s", "XUNJI_OUTBOX_LEASE=6s", "XUNJI_LOG_LEVEL=info",
	}
	if r.redis != nil {
		r.env = append(r.env, "REDIS_URL="+r.redis.URL())
	} else {
		r.env = append(r.env, "XUNJI_STORE_PATH="+filepath.Join(r.dir, "xunji.db"))
	}
	if r.has("slack") {
		r.slack = slacktest.NewServer(r.tb)
		r.slack.SetLatency(r.o.Latency)
		r.env = append(r.env, "SLACK_BOT_TOKEN=xoxb-fault", "SLACK_SIGNING_SECRET="+slackSecret, "SLACK_API_URL="+r.slack.APIURL(),
			"SLACK_BOT_USER_ID="+slacktest.BotUserID, "SLACK_TEAM_ID="+slacktest.TeamID)
	}
	if r.has("lark") {
		r.lark = larktest.NewServer(r.tb)
		r.lark.SetLatency(r.o.Latency)
		r.env = append(r.env, "LARK_APP_ID=cli_fault", "LARK_APP_SECRET="+larktest.AppSecret,
			"LARK_VERIFICATION_TOKEN="+larktest.VerificationToken, "LARK_ENCRYPT_KEY="+larkKey,
			"LARK_BASE_URL="+r.lark.URL, "LARK_BOT_OPEN_ID="+larktest.BotOpenID, "LARK_TENANT_KEY="+larktest.TenantKey)
	}
	for i := 0; i < max(1, r.sc.Replicas); i++ {
		port, err := freePort()
		if err != nil {
			return err
		}
		adminPort, err := freePort()
		if err != nil {
			return err
		}
		rep := &replica{name: fmt.Sprintf("xunji-%d", i), port: port, adminPort: adminPort, log: filepath.Join(r.dir, fmt.Sprintf("xunji-%d.log", i))}
		r.reps = append(r.reps, rep)
		if err := r.startReplica(rep); err != nil {
			return err
		}
	}
	f, err := startFront(r.reps)
	if err != nil {
		return err
	}
	r.front = f
	return nil
}

func (r *run) startReplica(rep *replica) error {
	env := append(append([]string(nil), r.env...), "XUNJI_HTTP_ADDR="+rep.addr(), "XUNJI_ADMIN_ADDR="+rep.adminAddr(), "XUNJI_INSTANCE="+rep.name)
	if err := rep.start(r.o.Bin, env); err != nil {
		return err
	}
	r.logf("%s started on %s", rep.name, rep.addr())
	return nil
}

// close stops everything the run started.
func (r *run) close() {
	if r.front != nil {
		r.front.close()
	}
	for _, rep := range r.reps {
		if rep.proc != nil {
			rep.kill()
		}
	}
	r.redis.close()
	if r.tb != nil {
		r.tb.close()
	}
}

// send posts the platform's commands through the front, one after the
// other Gap apart, each until it is acknowledged: like the platforms, a
// command not acknowledged with 200 within 3 s is delivered again (every
// second here, instead of Slack's 1 and 5 minutes), with the same event
// id, for up to two minutes.
func (r *run) send(platform string, runID string) {
	client := &http.Client{Timeout: 3 * time.Second}
	var mine []*command
	for i := 0; i < r.o.N; i++ {
		c := &command{Platform: platform, Tag: fmt.Sprintf("%s%02d", strings.ToUpper(platform[:1]), i)}
		c.EventID = fmt.Sprintf("Ev%s%s", runID, c.Tag)
		if platform == "lark" {
			c.EventID = fmt.Sprintf("ev-%s-%s", runID, c.Tag)
		}
		mine = append(mine, c)
	}
	r.mu.Lock()
	r.cmds = append(r.cmds, mine...)
	r.mu.Unlock()
	for i, c := range mine {
		if i > 0 {
			time.Sleep(r.o.Gap)
		}
		deadline := time.Now().Add(2 * time.Minute)
		for attempt := 0; time.Now().Before(deadline); attempt++ {
			c.Attempts.Add(1)
			req, err := r.request(c, attempt)
			if err == nil {
				var resp *http.Response
				if resp, err = client.Do(req); err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode == http.StatusOK {
						c.Acked.Store(true)
						break
					}
					err = fmt.Errorf("HTTP %d", resp.StatusCode)
				}
			}
			r.logf("%s %s not acknowledged (attempt %d): %v", platform, c.Tag, attempt+1, err)
			time.Sleep(time.Second)
		}
	}
}

// request builds delivery attempt of c, signed (Slack) or sealed (Lark)
// now.
func (r *run) request(c *command, attempt int) (*http.Request, error) {
	switch c.Platform {
	case "slack":
		body := slacktest.AppMention(c.EventID, slackSender, slackChannel, "<@"+slacktest.BotUserID+"> "+transferText(c.Tag))
		req, err := slacktest.NewRequest(r.front.URL, slacktest.PathEvents, slacktest.ContentJSON, body, slackSecret, time.Now())
		if err == nil && attempt > 0 {
			req.Header.Set("X-Slack-Retry-Num", strconv.Itoa(attempt))
			req.Header.Set("X-Slack-Retry-Reason", "http_timeout")
		}
		return req, err
	default:
		plain := larktest.GroupMention(c.EventID, larkChat, larkSender, transferText(c.Tag))
		body, hdr := larktest.Seal(larkKey, plain, time.Now())
		req, err := http.NewRequest(http.MethodPost, r.front.URL+larktest.PathEvents, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		for k, v := range hdr {
			req.Header[k] = v
		}
		req.Header.Set("Content-Type", "application/json")
		return req, nil
	}
}

// activity is a number that grows with every call the fakes receive.
func (r *run) activity() int {
	n := 0
	if r.slack != nil {
		for _, m := range []string{"chat.postMessage", "chat.postEphemeral", "chat.update", "conversations.open"} {
			n += r.slack.Attempts(m)
		}
		n += len(r.slack.Calls())
	}
	if r.lark != nil {
		n += len(r.lark.Calls())
	}
	return n
}

// liveDepth is the outbox depth the live replicas report (the largest;
// -1 when none answers).
func (r *run) liveDepth() int {
	depth := -1
	for _, rep := range r.reps {
		if !rep.alive.Load() {
			continue
		}
		m, err := rep.metrics("xunji_outbox_depth")
		if err != nil {
			continue
		}
		if v, ok := m["xunji_outbox_depth"]; ok && int(v) > depth {
			depth = int(v)
		}
	}
	return depth
}

// openStore opens the run's store for reading; for bolt, only once every
// replica has stopped.
func (r *run) openStore(ctx context.Context) (bot.Store, error) {
	if r.redis != nil {
		return redisstore.Open(ctx, r.redis.URL(), redisstore.WithPrefix(redisPrefix))
	}
	return boltstore.Open(filepath.Join(r.dir, "xunji.db"))
}
