/*
 * roster: `muster-enroll roster`, an enrollment bundle for every row of a
 * CSV file (person,unit,scope), signed on several threads beside one
 * writer.
 */
#ifndef MUSTER_ENROLL_ROSTER_H
#define MUSTER_ENROLL_ROSTER_H

/*
 * Takes the command's arguments (argv[0] is "roster"); writes each
 * refused row and any failure as one line on stderr, and returns the
 * process exit code: 65 when a row was refused.
 */
int	roster_cmd(int argc, char **argv);

#endif
