import { createHash } from 'node:crypto'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { defineConfig, type Plugin } from 'vite'

// The build goes to ../dist, which web/web.go embeds into the gantry binary.
// `npm run dev` serves the sources and sends /v1 to a gantry server on :8081
// (or $GANTRY_URL).

// The files the assets are built from. web/web_test.go hashes the same files in the
// same way and fails when dist/sources.sha256 differs: the sources changed without
// `make ui`.
const sourceFiles = ['index.html', 'package.json', 'package-lock.json', 'tsconfig.json', 'vite.config.ts']

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? walk(join(dir, d.name)) : [join(dir, d.name)],
  )
}

export function sourcesHash(root: string): string {
  const files = [...sourceFiles.map((f) => join(root, f)), ...walk(join(root, 'src'))]
    .map((f) => relative(root, f).split('\\').join('/'))
    .sort()
  const h = createHash('sha256')
  for (const f of files) {
    h.update(f + '\0')
    h.update(readFileSync(join(root, f)))
    h.update('\0')
  }
  return h.digest('hex')
}

function recordSources(): Plugin {
  return {
    name: 'gantry-record-sources',
    apply: 'build',
    closeBundle() {
      const root = import.meta.dirname
      writeFileSync(join(root, '../dist/sources.sha256'), sourcesHash(root) + '\n')
    },
  }
}

export default defineConfig({
  base: '/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  plugins: [recordSources()],
  build: {
    outDir: '../dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    sourcemap: false,
    chunkSizeWarningLimit: 800,
    rollupOptions: {
      output: {
        // CodeMirror changes less often than the app: its own file is cached longer.
        manualChunks(id: string) {
          if (/node_modules\/(@codemirror|@lezer|codemirror|crelt|style-mod|w3c-keyname)\//.test(id)) return 'codemirror'
          if (id.includes('node_modules/preact/')) return 'preact'
        },
      },
    },
  },
  server: {
    proxy: { '/v1': { target: process.env.GANTRY_URL || 'http://127.0.0.1:8081', changeOrigin: true } },
  },
})
