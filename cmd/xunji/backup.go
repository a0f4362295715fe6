package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/xunji-bot/xunji/bot/config"
	boltstore "github.com/xunji-bot/xunji/storage/bolt"
	"github.com/xunji-bot/xunji/storage/dump"
	redisstore "github.com/xunji-bot/xunji/storage/redis"
)

func init() {
	subcommands["backup"] = runBackup
	subcommands["restore"] = runRestore
	subcommands["migrate"] = runMigrate
}

// opsTimeout bounds an operations command's store work.
const opsTimeout = 10 * time.Minute

// storeSettings resolves the store the bot would use: the configuration
// (-config, XUNJI_CONFIG, or the demo district) with XUNJI_STORE_PATH and
// REDIS_URL applied as Main.setup applies them, refusing the same
// diverging combination.
func storeSettings(configPath string, getenv func(string) string) (config.StoreConfig, error) {
	c := config.Demo()
	where := "the demo configuration"
	if configPath != "" {
		var err error
		if c, err = config.Load(configPath); err != nil {
			return config.StoreConfig{}, err
		}
		where = configPath
	}
	st := c.Store
	if p := getenv("XUNJI_STORE_PATH"); p != "" {
		st.Path = p
	}
	if u := getenv("REDIS_URL"); u != "" {
		if st.Kind != "redis" {
			return st, fmt.Errorf("REDIS_URL is set but the store is %s (store.kind in %s): set store.kind: redis to use Redis, or unset REDIS_URL to use the embedded store", st.Kind, where)
		}
		st.RedisURL = u
	}
	return st, nil
}

// openRedis opens the configured Redis store.
func openRedis(ctx context.Context, st config.StoreConfig) (*redisstore.Store, error) {
	return redisstore.Open(ctx, st.RedisURL, redisstore.WithPrefix(st.Prefix), redisstore.WithReplicas(st.Replicas, time.Second))
}

// opsFlags is the flag set of an operations command, with -config.
func opsFlags(name, usage string, stderr io.Writer, getenv func(string) string) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet("xunji "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: xunji %s %s\n", name, usage)
		fs.PrintDefaults()
	}
	return fs, fs.String("config", getenv("XUNJI_CONFIG"), "configuration file (env XUNJI_CONFIG); none: the demo district")
}

// runBackup is `xunji backup -o FILE`: with the bolt store a consistent
// bbolt snapshot of the file (while the bot runs, too); with Redis a
// point-in-time dump of xunji's keys under the prefix (storage/dump).
func runBackup(args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs, cfg := opsFlags("backup", "-o FILE [-config FILE]", stderr, getenv)
	out := fs.String("o", "", "the backup file to write (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() > 0 {
		fs.Usage()
		return errors.New("-o FILE is required (e.g. xunji backup -o xunji-2026-12-06.backup)")
	}
	st, err := storeSettings(*cfg, getenv)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), opsTimeout)
	defer cancel()
	return writeAtomically(*out, func(w io.Writer) error {
		if st.Kind != "redis" {
			n, err := boltstore.Snapshot(st.Path, w)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "backup: bolt snapshot of %s, %d bytes, in %s\n", st.Path, n, *out)
			return nil
		}
		s, err := openRedis(ctx, st)
		if err != nil {
			return err
		}
		defer s.Close()
		entries, err := s.Export(ctx)
		if err != nil {
			return err
		}
		if err := dump.Write(w, dump.Header{Source: "redis", Prefix: s.Prefix(), Created: time.Now().UTC()}, entries); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "backup: Redis keys under %q: %s, in %s\n", s.Prefix(), dump.Summarize(entries), *out)
		return nil
	})
}

// writeAtomically writes path through a temporary file beside it,
// synced and renamed into place, so that a failed backup never leaves
// a truncated file under the name of a good one.
func writeAtomically(path string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	bw := bufio.NewWriter(tmp)
	if err := write(bw); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := bw.Flush(); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// runRestore is `xunji restore -i FILE [-force]`: a bolt snapshot into
// the configured bolt file, a Redis dump into the configured Redis
// prefix. A target holding data is refused unless -force; with -force a
// Redis prefix is emptied first, so the result is the backup and
// nothing else.
func runRestore(args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs, cfg := opsFlags("restore", "-i FILE [-force] [-config FILE]", stderr, getenv)
	in := fs.String("i", "", "the backup file to read (required)")
	force := fs.Bool("force", false, "replace a store that holds data")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *in == "" || fs.NArg() > 0 {
		fs.Usage()
		return errors.New("-i FILE is required (e.g. xunji restore -i xunji-2026-12-06.backup)")
	}
	st, err := storeSettings(*cfg, getenv)
	if err != nil {
		return err
	}
	f, err := os.Open(*in)
	if err != nil {
		return err
	}
	defer f.Close()
	br := bufio.NewReader(f)
	head, _ := br.Peek(64)
	isDump := dump.IsDump(head)
	ctx, cancel := context.WithTimeout(context.Background(), opsTimeout)
	defer cancel()

	if st.Kind != "redis" {
		if isDump {
			return fmt.Errorf("%s is a Redis backup and the configured store is bolt: restore it with store.kind: redis (REDIS_URL); to move a bolt store to Redis use xunji migrate", *in)
		}
		if err := boltstore.Restore(ctx, st.Path, br, *force); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "restore: %s restored into %s\n", *in, st.Path)
		return nil
	}
	if !isDump {
		return fmt.Errorf("%s is not a Redis backup (a bolt snapshot?): to load a bolt file into Redis use xunji migrate -from FILE", *in)
	}
	h, entries, err := dump.Read(br)
	if err != nil {
		return err
	}
	s, err := openRedis(ctx, st)
	if err != nil {
		return err
	}
	defer s.Close()
	empty, err := s.Empty(ctx)
	if err != nil {
		return err
	}
	if !empty {
		if !*force {
			return fmt.Errorf("Redis already holds keys under %q; restore over them only with -force (which deletes them first)", s.Prefix())
		}
		if err := s.DeleteAll(ctx); err != nil {
			return err
		}
	}
	if err := s.Import(ctx, entries); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "restore: %s (taken %s under %q) into Redis under %q: %s\n", *in, h.Created.Format(time.RFC3339), h.Prefix, s.Prefix(), dump.Summarize(entries))
	return nil
}
