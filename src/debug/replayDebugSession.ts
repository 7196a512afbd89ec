// The DAP session of the `planescope` debug type. It only translates between DAP and the replay
// engine; until the replay engine exists it answers `initialize` and refuses `launch` with the reason.
import { DebugSession, InitializedEvent } from '@vscode/debugadapter';
import { DebugProtocol } from '@vscode/debugprotocol';

export class ReplayDebugSession extends DebugSession {
  protected override initializeRequest(response: DebugProtocol.InitializeResponse): void {
    response.body = { supportsConfigurationDoneRequest: true };
    this.sendResponse(response);
    this.sendEvent(new InitializedEvent());
  }

  protected override launchRequest(response: DebugProtocol.LaunchResponse): void {
    this.sendErrorResponse(response, 1001, 'Planescope replay debugging is not available in this build yet.');
  }
}
