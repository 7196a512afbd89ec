// Standalone entry of the `planescope` debug adapter (DAP over stdio): `node dist/debugAdapter.js`.
import { DebugSession } from '@vscode/debugadapter';
import { ReplayDebugSession } from './replayDebugSession';

DebugSession.run(ReplayDebugSession);
