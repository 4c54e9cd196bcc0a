/**
 * ImageError: the only error the image reader throws for bad input. It is a
 * CkptyError with the "bad image" exit status, so a command that lets it through
 * prints `ckpty: FILE: corrupt image: …` and exits 5.
 */
import { CkptyError, ExitCode } from '../base/errors.js';

/** What is wrong with the file, coarsely; `reason` says exactly what. */
export type ImageProblem = 'foreign' | 'truncated' | 'corrupt' | 'version';

const PREFIX: Record<ImageProblem, string> = {
  foreign: 'not a ckpty image: ',
  truncated: 'truncated image: ',
  corrupt: 'corrupt image: ',
  version: '',
};

export class ImageError extends CkptyError {
  constructor(
    readonly problem: ImageProblem,
    readonly reason: string,
    /** The image file, when the error is reported for a file rather than a buffer. */
    readonly path?: string,
  ) {
    super(`${path === undefined ? '' : `${path}: `}${PREFIX[problem]}${reason}`, ExitCode.badImage);
    this.name = 'ImageError';
  }

  /** The same error, naming the file it was found in. */
  inFile(path: string): ImageError {
    return new ImageError(this.problem, this.reason, path);
  }
}

export const foreign = (reason: string): ImageError => new ImageError('foreign', reason);
export const truncated = (reason: string): ImageError => new ImageError('truncated', reason);
export const corrupt = (reason: string): ImageError => new ImageError('corrupt', reason);

/** The errors about one place in an image; `where` follows the kind: "corrupt image: member 1 (pid 4243): …". */
export interface Blame {
  foreign(reason: string): ImageError;
  truncated(reason: string): ImageError;
  corrupt(reason: string): ImageError;
}

export function blame(where = ''): Blame {
  return {
    foreign: (reason) => foreign(where + reason),
    truncated: (reason) => truncated(where + reason),
    corrupt: (reason) => corrupt(where + reason),
  };
}
