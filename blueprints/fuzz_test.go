package blueprints

import (
	"os"
	"path/filepath"
	"testing"
)

func FuzzParse(f *testing.F) {
	names, _ := filepath.Glob(filepath.Join("testdata", "*", "*.yaml"))
	for _, name := range names {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(navYAML))
	f.Add([]byte("a: &a {<<: *a}\nservices: [{type: x}]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		plan, err := Parse(data)
		if err != nil {
			checkError(t, err)
			return
		}
		err = plan.Walk(func(s *Service) error {
			if s.Type == "" || s.Pos.Line < 1 || s.Path == "" {
				t.Errorf("service %+v", s)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}
