// Package events reads the Chain Reactor API's event stream (GET /v1/events, Server-Sent
// Events), which openapi-generator's client cannot: it waits for a whole body, and a stream
// has none.
//
// Stream yields the events of one connection until it ends or fails. Reconnect with the last
// change's id and the service replays what was missed. Every size and wait is bounded: a line
// over 64 KiB, or IdleTimeout without a byte (the service sends a comment every 15 s), ends
// the connection with an error.
package events

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

// Data is an event's payload: a change (Kind awarded, running, terminating, terminated,
// failed or deposit) of one deployment, or a resync (Kind "resync", with Reason).
type Data struct {
	Kind         string `json:"kind"`
	DeploymentID uint64 `json:"deployment_id"`
	State        string `json:"state"`
	Block        uint64 `json:"block"`
	BlockHash    string `json:"block_hash"`
	Provider     string `json:"provider"`
	Reason       string `json:"reason"`
}

// Event is one item of the stream: "change" (with ID), "resync", or "keepalive".
type Event struct {
	Name string
	ID   string
	Data Data
}

// Options of one connection.
type Options struct {
	BaseURL     string
	Token       string
	LastEventID string
	IdleTimeout time.Duration
	Client      *http.Client
}

// StatusError is an answer other than 200.
type StatusError struct {
	Status int
	Detail string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("the event stream answered %d: %s", e.Status, e.Detail)
}

const maxLine = 64 * 1024

// Stream connects and calls handle for each event until the connection ends (an error), ctx
// is done (ctx.Err()), or handle returns an error (that error).
func Stream(ctx context.Context, options Options, handle func(Event) error) error {
	idleTimeout := options.IdleTimeout
	if idleTimeout == 0 {
		idleTimeout = 45 * time.Second
	}
	client := options.Client
	if client == nil {
		client = &http.Client{}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	request, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(options.BaseURL, "/")+"/v1/events", nil)
	if err != nil {
		return err
	}
	request.Header.Set("Authorization", "Bearer "+options.Token)
	request.Header.Set("Accept", "text/event-stream")
	if options.LastEventID != "" {
		request.Header.Set("Last-Event-ID", options.LastEventID)
	}
	var silent atomic.Bool
	idle := time.AfterFunc(idleTimeout, func() { silent.Store(true); cancel() })
	defer idle.Stop()
	response, err := client.Do(request)
	if err != nil {
		return err
	}
	defer response.Body.Close()
	if response.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(response.Body, 4096))
		var problem struct{ Error, Detail string }
		detail := string(body)
		if json.Unmarshal(body, &problem) == nil && problem.Error != "" {
			detail = problem.Error + ": " + problem.Detail
		}
		return &StatusError{Status: response.StatusCode, Detail: detail}
	}
	scanner := bufio.NewScanner(response.Body)
	scanner.Buffer(make([]byte, 4096), maxLine)
	fields := map[string]string{}
	for scanner.Scan() {
		idle.Reset(idleTimeout)
		line := strings.TrimSuffix(scanner.Text(), "\r")
		switch {
		case line == "":
			if data, ok := fields["data"]; ok {
				event := Event{Name: fields["event"], ID: fields["id"]}
				if err := json.Unmarshal([]byte(data), &event.Data); err != nil {
					return fmt.Errorf("an event's data is not JSON: %w", err)
				}
				if (event.Name == "change" && event.ID != "") || event.Name == "resync" {
					if err := handle(event); err != nil {
						return err
					}
				}
			}
			fields = map[string]string{}
		case strings.HasPrefix(line, ":"):
			if err := handle(Event{Name: "keepalive"}); err != nil {
				return err
			}
		default:
			name, value, _ := strings.Cut(line, ":")
			value = strings.TrimPrefix(value, " ")
			if old, ok := fields[name]; ok && name == "data" {
				value = old + "\n" + value
			}
			fields[name] = value
		}
	}
	if silent.Load() {
		return fmt.Errorf("the event stream was silent for %s", idleTimeout)
	}
	if err := scanner.Err(); err != nil {
		return err
	}
	return errors.New("the event stream ended")
}
