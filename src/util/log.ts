// winston loggers: structured JSON lines in the node's log file, readable
// lines on the console, and a child logger per link.
import winston from 'winston';

export type Logger = winston.Logger;

export interface LogOptions {
	/** JSON lines go here; omitted: console only. */
	file?: string;
	level?: string;
	console?: boolean;
	/** Largest log file before it rotates (one old file kept), so a flood cannot fill the disk. */
	maxBytes?: number;
}

export function createLogger(node: string, options: LogOptions = {}): Logger {
	const transports: winston.transport[] = [];
	if (options.file)
		transports.push(
			new winston.transports.File({
				filename: options.file,
				format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
				maxsize: options.maxBytes ?? 5 * 1024 * 1024,
				maxFiles: 2,
				tailable: true,
			}),
		);
	if (options.console ?? true)
		transports.push(
			new winston.transports.Console({
				format: winston.format.combine(
					winston.format.timestamp({format: 'HH:mm:ss.SSS'}),
					winston.format.printf((info) => {
						const {timestamp, level, message, node: n, link, ...rest} = info as Record<string, unknown>;
						const extra = Object.keys(rest).length > 0 ? ` ${JSON.stringify(rest)}` : '';
						return `${String(timestamp)} ${String(n)}${link ? `/${String(link)}` : ''} ${String(level)}: ${String(message)}${extra}`;
					}),
				),
			}),
		);
	return winston.createLogger({level: options.level ?? 'info', defaultMeta: {node}, transports});
}
