package main

import (
	"context"
	"fmt"

	"github.com/go-co-op/gocron/v2"
)

// startJobs runs the command packages' periodic jobs on gocron, in the
// deployment's time zone. Each job is idempotent, and a job never runs
// twice at once in this process (singleton mode).
func (m *Main) startJobs(ctx context.Context) (gocron.Scheduler, error) {
	jobs := m.Bot.Jobs()
	if len(jobs) == 0 {
		return nil, nil
	}
	s, err := gocron.NewScheduler(gocron.WithLocation(m.Bot.Loc))
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
			return nil, fmt.Errorf("job %s: %w", j.Name, err)
		}
	}
	s.Start()
	return s, nil
}
