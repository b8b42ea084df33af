import { browser } from 'wxt/browser';
import type { ProtocolMessage } from './protocol.ts';

/** Sends a protocol message to the background; typed so only protocol shapes can be sent. */
export async function sendToBackground(message: ProtocolMessage): Promise<void> {
  await browser.runtime.sendMessage(message);
}
