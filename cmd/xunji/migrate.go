package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	boltstore "github.com/xunji-bot/xunji/storage/bolt"
	"github.com/xunji-bot/xunji/storage/dump"
)

// runMigrate is `xunji migrate`: it copies every document (records,
// audit entries, pending inbox and outbox entries), counter and
// unexpired claim from the bolt file to the configured Redis, then reads
// the copy back and compares it with the source, record by record. The
// bolt file is opened read-only (bbolt refuses while the bot runs: stop
// it first, so nothing is written after the copy); a Redis prefix that
// already holds keys is refused.
func runMigrate(args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs, cfg := opsFlags("migrate", "[-from BOLT_FILE] [-config FILE]", stderr, getenv)
	from := fs.String("from", "", "the bolt file to copy (default: store.path of the configuration, or XUNJI_STORE_PATH)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("unexpected argument %q (e.g. xunji migrate -from /var/lib/xunji/xunji.db)", fs.Arg(0))
	}
	st, err := storeSettings(*cfg, getenv)
	if err != nil {
		return err
	}
	if st.Kind != "redis" {
		return errors.New("the target is Redis: set store.kind: redis in the configuration and REDIS_URL (or store.redis_url), then run xunji migrate -from BOLT_FILE")
	}
	src := st.Path
	if *from != "" {
		src = *from
	}
	ctx, cancel := context.WithTimeout(context.Background(), opsTimeout)
	defer cancel()

	b, err := boltstore.OpenReadOnly(src)
	if err != nil {
		return err
	}
	entries, err := b.Export(ctx)
	_ = b.Close()
	if err != nil {
		return err
	}
	exported := time.Now()

	r, err := openRedis(ctx, st)
	if err != nil {
		return err
	}
	defer r.Close()
	empty, err := r.Empty(ctx)
	if err != nil {
		return err
	}
	if !empty {
		return fmt.Errorf("Redis already holds keys under %q: migrate only into an empty prefix (choose another store.prefix, or remove those keys)", r.Prefix())
	}
	if err := r.Import(ctx, entries); err != nil {
		return fmt.Errorf("copying into Redis: %w (the prefix %q now holds part of the copy: remove it before trying again)", err, r.Prefix())
	}
	got, err := r.Export(ctx)
	if err != nil {
		return fmt.Errorf("reading the copy back: %w", err)
	}
	if diffs := dump.Compare(entries, got, time.Since(exported), 20); len(diffs) > 0 {
		return fmt.Errorf("the copy in Redis differs from %s:\n  %s", src, strings.Join(diffs, "\n  "))
	}
	fmt.Fprintf(stdout, "migrate: %s → Redis under %q: %s; verified: counts and every record equal\n", src, r.Prefix(), dump.Summarize(entries))
	return nil
}
