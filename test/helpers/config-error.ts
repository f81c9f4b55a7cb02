/** The message of the ConfigError `start` throws, failing the test when it throws none or another error. */
import { ConfigError } from '../../src/config';

export function configErrorOf(start: () => unknown): string {
  try {
    start();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('no ConfigError: it was accepted');
}
