import { render } from 'preact'
import { App } from './App'
import './style.css'

const root = document.getElementById('app')!
try {
  render(<App />, root)
} catch (e) {
  // Never a blank page: say what went wrong.
  root.textContent = 'The Gantry UI failed to start: ' + (e instanceof Error ? e.message : String(e))
}
