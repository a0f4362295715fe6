package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/xunji-bot/xunji/bot/bottest"
	"github.com/xunji-bot/xunji/bot/config"
	boltstore "github.com/xunji-bot/xunji/storage/bolt"
)

// testRedisURL is the shared test server's database 15.
const testRedisURL = "redis://127.0.0.1:6379/15"

// redisConfig writes the demo district's configuration with the Redis
// store under a fresh random prefix, and deletes that prefix's keys at
// cleanup.
func redisConfig(t *testing.T, dir string) (path, prefix string) {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	prefix = "xunjitest:" + hex.EncodeToString(b[:]) + ":"
	cfg := config.DemoYAML()
	old := []byte("store:\n  kind: bolt\n  path: xunji-demo.db\n")
	if !bytes.Contains(cfg, old) {
		t.Fatal("the demo configuration's store section changed: update redisConfig")
	}
	cfg = bytes.Replace(cfg, old, []byte("store:\n  kind: redis\n  path: "+filepath.Join(dir, "xunji.db")+"\n  prefix: \""+prefix+"\"\n"), 1)
	path = filepath.Join(t.TempDir(), "xunji.yaml")
	if err := os.WriteFile(path, cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { deletePrefix(t, prefix) })
	return path, prefix
}

func deletePrefix(t *testing.T, prefix string) {
	opts, err := redis.ParseURL(testRedisURL)
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opts)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	iter := c.Scan(ctx, 0, prefix+"*", 500).Iterator() // hex and ':' only: no glob escaping
	for iter.Next(ctx) {
		if err := c.Del(ctx, iter.Val()).Err(); err != nil {
			t.Errorf("cleanup: %v", err)
			return
		}
	}
	if err := iter.Err(); err != nil {
		t.Errorf("cleanup: %v", err)
	}
}

// runWith runs the program's console with the environment vars and
// returns what it printed.
func runWith(t *testing.T, vars map[string]string, input string) string {
	t.Helper()
	var out bytes.Buffer
	m := testMain()
	m.Stdin = strings.NewReader(input)
	m.Stdout = &out
	m.Stderr = io.Discard
	m.Getenv = env(vars)
	if err := m.ParseFlags(nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := m.Run(ctx)
	if cerr := m.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	return out.String()
}

// ops runs an operations subcommand and returns its output and error.
func ops(vars map[string]string, args ...string) (string, error) {
	var out, errs bytes.Buffer
	run := subcommands[args[0]]
	err := run(args[1:], &out, &errs, env(vars))
	return out.String() + errs.String(), err
}

// clueID is the demo district's first clue, numbered in the year the
// program first started (bottest.Start).
var clueID = fmt.Sprintf("XS-%d-0001", bottest.Start.In(bottest.Shanghai).Year())

func TestBackupRestoreRoundTripOnBolt(t *testing.T) {
	dir := t.TempDir()
	live := map[string]string{"XUNJI_STORE_PATH": filepath.Join(dir, "live.db")}
	before := runWith(t, live, "切换 赵强\n线索 列表\n") // seeds the demo district
	if !strings.Contains(before, clueID) {
		t.Fatalf("the demo district has no %s:\n%s", clueID, before)
	}

	// Backup while the bot holds the file, as a running xunji does.
	held, err := boltstore.Open(live["XUNJI_STORE_PATH"])
	if err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(dir, "xunji.backup")
	out, err := ops(live, "backup", "-o", backup)
	_ = held.Close()
	if err != nil {
		t.Fatalf("backup: %v\n%s", err, out)
	}

	restored := map[string]string{"XUNJI_STORE_PATH": filepath.Join(dir, "restored", "xunji.db")}
	if out, err := ops(restored, "restore", "-i", backup); err != nil {
		t.Fatalf("restore: %v\n%s", err, out)
	}
	after := runWith(t, restored, "切换 赵强\n线索 列表\n")
	if !strings.Contains(after, clueID) {
		t.Errorf("the restored store has no %s:\n%s", clueID, after)
	}
	if _, err := ops(restored, "restore", "-i", backup); err == nil || !strings.Contains(err.Error(), "-force") {
		t.Errorf("restore over data without -force: %v, want a refusal naming -force", err)
	}
	if out, err := ops(restored, "restore", "-i", backup, "-force"); err != nil {
		t.Errorf("restore -force: %v\n%s", err, out)
	}
	if _, err := ops(restored, "backup"); err == nil || !strings.Contains(err.Error(), "-o FILE") {
		t.Errorf("backup without -o: %v, want a usage error with an example", err)
	}
}

// migrate copies the demo district from bolt to Redis and verifies it;
// the bot on Redis then reads the clue's history (audit entries made on
// bolt) and numbers the next clue after the migrated counter. A Redis
// backup of it restores into another prefix.
func TestMigrateDemoDistrictToRedisThenBackupAndRestore(t *testing.T) {
	dir := t.TempDir()
	boltPath := filepath.Join(dir, "xunji.db")
	history := "切换 李娜\n线索 记录 " + clueID + "\n"
	onBolt := runWith(t, map[string]string{"XUNJI_STORE_PATH": boltPath}, history)
	cfg, prefix := redisConfig(t, dir)
	vars := map[string]string{"XUNJI_CONFIG": cfg, "REDIS_URL": testRedisURL}

	// Refused while a bot holds the bolt file.
	held, err := boltstore.Open(boltPath)
	if err != nil {
		t.Fatal(err)
	}
	_, err = ops(vars, "migrate")
	_ = held.Close()
	if err == nil || !strings.Contains(err.Error(), "stop it first") {
		t.Errorf("migrate from a held bolt file: %v, want a refusal", err)
	}

	out, err := ops(vars, "migrate")
	if err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	if !strings.Contains(out, "verified") || !strings.Contains(out, "clues 1") || !strings.Contains(out, prefix) {
		t.Errorf("migrate's report: %s", out)
	}
	if _, err := ops(vars, "migrate"); err == nil || !strings.Contains(err.Error(), "empty prefix") {
		t.Errorf("a second migrate into the same prefix: %v, want a refusal", err)
	}

	onRedis := runWith(t, vars, history+`线索 移送 第二监督检查室 区财政局党组 "迁移后" "迁移后的线索" 期限:+30d`+"\n")
	lines := historyLines(onBolt)
	// The two entries made on bolt (the transfer, the first query) and
	// the query on Redis.
	if title := fullCatalog(t).T("zh-CN", "clue.audit.title", "id", clueID, "count", 3); !strings.Contains(onRedis, title) {
		t.Errorf("the history on Redis lacks %q:\n%s", title, onRedis)
	}
	if len(lines) == 0 {
		t.Fatalf("no history on bolt:\n%s", onBolt)
	}
	for _, l := range lines {
		if !strings.Contains(onRedis, l) {
			t.Errorf("the history on Redis lacks %q from bolt:\n%s", l, onRedis)
		}
	}
	next := fmt.Sprintf("XS-%d-0002", bottest.Start.In(bottest.Shanghai).Year())
	if !strings.Contains(onRedis, next) {
		t.Errorf("the clue transferred after migrating is not %s (counter not carried over):\n%s", next, onRedis)
	}

	// Backup of the Redis store, restored into another prefix.
	backup := filepath.Join(dir, "redis.backup")
	if out, err := ops(vars, "backup", "-o", backup); err != nil || !strings.Contains(out, "clues 2") {
		t.Fatalf("backup: %v\n%s", err, out)
	}
	cfg2, _ := redisConfig(t, dir)
	vars2 := map[string]string{"XUNJI_CONFIG": cfg2, "REDIS_URL": testRedisURL}
	if out, err := ops(vars2, "restore", "-i", backup); err != nil {
		t.Fatalf("restore: %v\n%s", err, out)
	}
	if _, err := ops(vars2, "restore", "-i", backup); err == nil || !strings.Contains(err.Error(), "-force") {
		t.Errorf("restore over data without -force: %v, want a refusal", err)
	}
	if out, err := ops(vars2, "restore", "-i", backup, "-force"); err != nil {
		t.Errorf("restore -force: %v\n%s", err, out)
	}
	restored := runWith(t, vars2, "切换 赵强\n线索 列表\n")
	for _, id := range []string{clueID, next} {
		if !strings.Contains(restored, id) {
			t.Errorf("the restored Redis store lacks %s:\n%s", id, restored)
		}
	}
	// A Redis backup is not a bolt snapshot.
	if _, err := ops(map[string]string{"XUNJI_STORE_PATH": filepath.Join(dir, "other.db")}, "restore", "-i", backup); err == nil || !strings.Contains(err.Error(), "migrate") {
		t.Errorf("a Redis backup restored into bolt: %v, want a refusal pointing to migrate", err)
	}
}

// historyLines are the lines of a clue's history in console output.
func historyLines(out string) []string {
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		// The history card's entries ("│ • 2026-12-01 09:00 李娜 移送…"), not
		// the demo's seeded cards that a fresh start shows first.
		if strings.HasPrefix(l, "│ • ") && strings.Contains(l, "李娜") {
			lines = append(lines, strings.TrimSpace(l))
		}
	}
	return lines
}
