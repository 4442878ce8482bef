#!/usr/bin/perl
# seeds.pl OUTDIR FILE...: a fuzz target's seed corpus from the inputs of
# the unit tests in FILEs.  Every C string literal (adjacent literals
# joined, escapes decoded) becomes a seed file; so do the literals of one
# call joined by "\n" (the "pattern\npath" and "args\nname" inputs of the
# router and query targets).  Run by tests/fuzz/run.sh before each run, so
# the seeds follow the unit tests.  perl-base only (Debian's Essential).
use strict;
use warnings;

my ($outdir, @files) = @ARGV;
die "usage: seeds.pl OUTDIR FILE...\n" unless defined $outdir && @files;
mkdir $outdir unless -d $outdir;

my %esc = (n => "\n", t => "\t", r => "\r", '0' => "\0", b => "\b",
           f => "\f", v => "\x0b", a => "\x07");

# The bytes a C literal's body stands for.
sub decode {
    my ($s) = @_;
    $s =~ s/\\(x[0-9A-Fa-f]{1,2}|[0-7]{1,3}|.)/
        my $e = $1;
        $e =~ m{^x}      ? chr(hex(substr($e, 1)))
      : $e =~ m{^[0-7]+$} ? chr(oct($e))
      : exists $esc{$e}   ? $esc{$e}
      : $e/ge;
    return $s;
}

my %seen;
my $n = 0;
sub seed {
    my ($bytes) = @_;
    return if $seen{$bytes}++;
    my $path = sprintf("%s/unit-%04d", $outdir, $n++);
    open(my $fh, '>:raw', $path) or die "$path: $!\n";
    print $fh $bytes;
    close $fh;
}

for my $file (@files) {
    open(my $fh, '<', $file) or die "$file: $!\n";
    local $/;
    my $src = <$fh>;
    close $fh;
    $src =~ s{/\*.*?\*/}{}gs;          # comments hold no inputs
    $src =~ s{^\s*#\s*include.*$}{}gm; # nor do the includes
    # String macros (#define ISS "mod_mocaverse") stand for their text
    # where they are joined with literals.
    my $lit = qr/"(?:[^"\\\n]|\\.)*"/;
    my %macro;
    while ($src =~ s/^\s*#\s*define\s+(\w+)\s+((?:$lit\s*)+)$//m) {
        my ($name, $text) = ($1, $2);
        $macro{$name} = join '', map { decode(substr($_, 1, -1)) }
            $text =~ /($lit)/g;
    }
    # Statements end at ';', '{' or '}' outside literals; a run of
    # literals and string macros is one input, and a statement's inputs
    # are also joined by "\n".
    my (@lits, $run);
    my $flush_run = sub { push @lits, $run if defined $run; undef $run };
    my $flush_stmt = sub {
        $flush_run->();
        seed($_) for @lits;
        seed(join("\n", @lits)) if @lits > 1;
        @lits = ();
    };
    while ($src =~ /\G(?:($lit)|([;{}])|(\w+)|(\s+)|(.))/gs) {
        my ($l, $sep, $word, $ws) = ($1, $2, $3, $4);
        if (defined $l) {
            $run .= decode(substr($l, 1, -1));
        } elsif (defined $word && exists $macro{$word}) {
            $run .= $macro{$word};
        } elsif (defined $sep) {
            $flush_stmt->();
        } elsif (!defined $ws) {
            $flush_run->();
        }
    }
    $flush_stmt->();
}
print "$n seeds\n";
