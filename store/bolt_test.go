package store

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

func TestBoltRoundTrip(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := OpenBolt(dir)
	if err != nil {
		t.Fatal(err)
	}
	var b Batch
	for i := 0; i < 5; i++ {
		b.Put(fmt.Sprintf("entities/%d", i), []byte(fmt.Sprint(i)))
	}
	b.Put("tasks/x", []byte("t"))
	if err := s.Apply(ctx, &b); err != nil {
		t.Fatal(err)
	}
	var del Batch
	del.Delete("entities/3")
	if err := s.Apply(ctx, &del); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = OpenBolt(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var keys []string
	if err := s.List(ctx, "entities/", func(k string, v []byte) error {
		keys = append(keys, k+"="+string(v))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(keys), "[entities/0=0 entities/1=1 entities/2=2 entities/4=4]"; got != want {
		t.Fatalf("list = %s, want %s", got, want)
	}
	if v, err := s.Get(ctx, "tasks/x"); err != nil || string(v) != "t" {
		t.Fatalf("get = %q, %v", v, err)
	}
	if _, err := s.Get(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get missing: %v, want ErrNotFound", err)
	}
}

func TestBoltRefusesSecondOpen(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenBolt(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := OpenBolt(dir); err == nil {
		t.Fatal("second open of the same directory succeeded")
	}
}

func TestBoltApplyAfterCloseFailsCleanly(t *testing.T) {
	s, err := OpenBolt(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	var b Batch
	b.Put("k", []byte("v"))
	if err := s.Apply(context.Background(), &b); err == nil {
		t.Fatal("apply on a closed store succeeded")
	}
	if err := s.List(context.Background(), "", func(string, []byte) error { return nil }); err == nil {
		t.Fatal("list on a closed store succeeded")
	}
}
