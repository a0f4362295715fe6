package main

import (
	"context"
	"fmt"
	"os"

	"github.com/go-co-op/gocron/v2"

	"github.com/xunji-bot/xunji/bot/schedule"
)

// startJobs runs, on one gocron scheduler in the deployment's time zone
// (whatever the server's zone is):
//
//   - the command packages' periodic jobs (bot.Job), each idempotent and
//     never twice at once in this process (singleton mode);
//   - the configured schedules (bot/schedule): each occurrence runs once
//     across replicas and restarts, missed runs are caught up within their
//     window or reported to the inspection office.
//
// Call it after every command package has registered its tasks. With the
// Redis store the schedule jobs also take a Redis lock, so of several
// processes only one looks at a schedule at a time; the lock expires by
// itself if its holder dies.
func (m *Main) startJobs(ctx context.Context) (gocron.Scheduler, error) {
	jobs := m.Bot.Jobs.All()
	runner, err := schedule.New(m.Bot, m.Config, schedule.WithInstance(m.instance()),
		schedule.WithObserver(m.Metrics.Scheduled))
	if err != nil {
		return nil, err
	}
	if len(jobs) == 0 && len(runner.Schedules()) == 0 {
		return nil, nil
	}
	s, err := gocron.NewScheduler(gocron.WithLocation(m.Bot.Loc), gocron.WithClock(m.Clock))
	if err != nil {
		return nil, err
	}
	for _, j := range jobs {
		j := j
		_, err := s.NewJob(gocron.DurationJob(j.Every), gocron.NewTask(func() {
			if err := j.Run(ctx, m.Bot.Now()); err != nil {
				m.Log.Error("job failed", "job", j.Name, "err", err)
			}
		}), gocron.WithName(j.Name), gocron.WithSingletonMode(gocron.LimitModeReschedule))
		if err != nil {
			_ = s.Shutdown()
			return nil, fmt.Errorf("job %s: %w", j.Name, err)
		}
	}
	var opts []gocron.JobOption
	if ls, ok := m.Store.(schedule.LockingStore); ok {
		opts = append(opts, gocron.WithDistributedJobLocker(ls.Locker()))
	}
	if _, err := runner.AddJobs(ctx, s, opts...); err != nil {
		_ = s.Shutdown()
		return nil, err
	}
	s.Start()
	return s, nil
}

// instance names this process in the schedules' run history.
func (m *Main) instance() string {
	if v := m.Getenv("XUNJI_INSTANCE"); v != "" {
		return v
	}
	host, _ := os.Hostname()
	return fmt.Sprintf("%s:%d", host, os.Getpid())
}
